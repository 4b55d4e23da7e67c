"""Diagnostics before lowering: syntax, layout, encoding, files and the header.

Snippets follow the 3-line header of `tests.helpers.HEADER`, so their first line is line 4.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netspec.api import check_file, check_text
from tests.helpers import CLASSIFIER, HEADER, TERMINAL_NAME, only_diagnostic, spec

SYNTAX_ERRORS = [
    # (snippet, line, column, message)
    ("conv 3 3\n", 4, 6, "unexpected '3': expected a kernel like 3x3 or 3x3/2"),
    ("maxpool 3\n", 4, 9, "unexpected '3': expected 'to' or a kernel like 3x3 or 3x3/2"),
    ("conv 3x3\n", 4, 9, "unexpected end of line: expected a name or a number"),
    ("dense\n", 4, 6, "unexpected end of line: expected a name or a number"),
    ("conv 3x3/ 8\n", 4, 9, "unexpected '/': expected a name or a number"),
    ("conv 3x3 64 = 3\n", 4, 13, "unexpected '=': expected '->', a name or the end of the line"),
    ("inception 3a 1/1-1/1-1\n", 4, 23, "unexpected end of line: expected '/'"),
    ("inception 3a 1/2\n", 4, 17, "unexpected end of line: expected '-'"),
    (
        "3\n",
        4,
        1,
        "unexpected '3': expected a statement (a layer such as `conv 3x3 64`, `branch:`, "
        "or a module instance)",
    ),
    (
        "conv 1x1 8 ->\n",
        4,
        14,
        "unexpected end of line: expected a statement (a layer such as `conv 3x3 64`, "
        "`branch:`, or a module instance)",
    ),
    # an empty block is reported at its colon, not on the line after it
    ("branch:\ngap\n", 4, 7, "`branch:` opens a block with nothing in it"),
    ("stem:", 4, 5, "`stem:` opens a block with nothing in it"),
    ("module m(a b):\n  gap\n", 4, 12, "unexpected 'b': expected ')', ',' or '='"),
    ("module m(:\n  gap\n", 4, 10, "unexpected ':': expected ')' or a name"),
    ("repeat:\n  gap\n", 4, 7, "unexpected ':': expected a name or a number"),
    ("aux:\n  gap\n", 4, 4, "unexpected ':': expected a name"),
    ("merge\n", 4, 6, "unexpected end of line: expected a name"),
    ("stage 3a 3:\n  gap\n", 4, 10, "unexpected '3': expected ':'"),
    ("defaults: conv relu\n", 4, 11, "unexpected 'conv': expected the end of the line"),
    (
        "stem:\n  conv 1x1 8\n    conv 1x1 8\n",
        6,
        5,
        "unexpected indentation: expected a statement (a layer such as `conv 3x3 64`, "
        "`branch:`, or a module instance)",
    ),
    ("conv 1x1 8 @\n", 4, 12, "unexpected '@': expected '->', a name or the end of the line"),
    ('train:\n  dataset folder "x\n', 5, 18, "unexpected character '\"'"),
]


@pytest.mark.parametrize(("body", "line", "column", "message"), SYNTAX_ERRORS)
def test_syntax_errors_say_what_was_expected_in_user_words(
    body: str, line: int, column: int, message: str
) -> None:
    diagnostic = only_diagnostic(spec(body))
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("syntax", line, column)
    assert diagnostic.message == message


@pytest.mark.parametrize(
    ("text", "line", "column", "expected"),
    [
        ("network t\ninput 3x3\nclasses 10\n", 2, 7, "an input shape like 224x224x3"),
        ("network t\ninput 3x3x3\nclasses x\n", 3, 9, "a number"),
        ("network 3\ninput 3x3x3\nclasses 10\n", 1, 9, "a name"),
        ("network (\n", 1, 9, "a name"),
    ],
)
def test_header_syntax_errors(text: str, line: int, column: int, expected: str) -> None:
    diagnostic = only_diagnostic(text)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("syntax", line, column)
    assert diagnostic.message.endswith(f"expected {expected}")


@pytest.mark.parametrize("body", [case[0] for case in SYNTAX_ERRORS])
def test_syntax_errors_never_name_grammar_terminals(body: str) -> None:
    message = only_diagnostic(spec(body)).message
    assert not TERMINAL_NAME.search(message), message


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [("stem:\n\tconv 1x1 8\n", 5, 1), ("stem:\n  \tconv 1x1 8\n", 5, 3)],
)
def test_a_tab_in_indentation_says_so(body: str, line: int, column: int) -> None:
    diagnostic = only_diagnostic(spec(body))
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("tab-indent", line, column)
    assert "tab" in diagnostic.message and "spaces" in diagnostic.message


def test_a_tab_between_words_is_only_spacing() -> None:
    assert check_text(spec("conv\t1x1\t8\n" + CLASSIFIER)).diagnostics == ()


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("\x00\x01", 1, 1),
        (spec("conv 1x1 8\x07\n"), 4, 11),
        (spec("conv 1x1 8\n\x1b[31m\n"), 5, 1),
        ("\ufeff" + spec(CLASSIFIER), 1, 1),  # in text; a file's byte-order mark is dropped
    ],
)
def test_control_characters_are_bad_characters(text: str, line: int, column: int) -> None:
    diagnostic = only_diagnostic(text)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("bad-character", line, column)


def test_a_dedent_to_no_enclosing_block_is_an_indentation_error() -> None:
    diagnostic = only_diagnostic(spec("stem:\n    conv 1x1 8\n  conv 1x1 8\n"))
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("indentation", 6, 3)
    assert diagnostic.message == (
        "this line is indented by 2 spaces, which matches no enclosing block (expected 0)"
    )


def test_a_file_that_is_not_utf8_is_an_encoding_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.ns"
    path.write_bytes(HEADER.encode() + "conv 1x1 8  # é".encode() + b"\xff\n")
    (diagnostic,) = check_file(path).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("encoding", 4, 16)
    assert diagnostic.file == str(path)


def test_a_utf8_byte_order_mark_is_not_part_of_the_spec(tmp_path: Path) -> None:
    path = tmp_path / "bom.ns"
    path.write_bytes(b"\xef\xbb\xbf" + spec("conv 1x1 8\n" + CLASSIFIER).encode())
    assert check_file(path).diagnostics == ()


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.ns"
    (diagnostic,) = check_file(path).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("file-not-found", 0, 0)
    assert (diagnostic.file, diagnostic.message) == (str(path), f"no such spec file: {path}")


def test_a_directory_is_unreadable(tmp_path: Path) -> None:
    (diagnostic,) = check_file(tmp_path).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("unreadable", 0, 0)


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("", "`network NAME`, `input HxWxC`, `classes N`"),
        ("# only a comment\n\n", "`network NAME`, `input HxWxC`, `classes N`"),
        ("network t\ninput 32x32x3\n", "`classes N`"),
        ("input 32x32x3\nclasses 10\nconv 1x1 8\n", "`network NAME`"),
    ],
)
def test_missing_header_lines(text: str, missing: str) -> None:
    diagnostic = only_diagnostic(text)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("missing-header", 1, 1)
    assert diagnostic.message == f"the spec needs {missing}"


def test_network_must_come_first() -> None:
    diagnostic = only_diagnostic("input 32x32x3\nnetwork t\nclasses 10\n" + CLASSIFIER)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("header-order", 2, 1)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("network t\ninput 32x32x3\nclasses 10\nclasses 20\n", 4, 1),
        ("network t\ninput 32x32x3\ninput 16x16x3\nclasses 10\n", 3, 7),
    ],
)
def test_a_header_line_given_twice(text: str, line: int, column: int) -> None:
    diagnostic = only_diagnostic(text + CLASSIFIER)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == (
        "duplicate-header",
        line,
        column,
    )
    assert "first on line" in diagnostic.message
