"""Rendering: `file:line:col: severity[code]: message`, the source line, a caret under the token."""

from __future__ import annotations

import pytest

from netspec.api import check_text
from netspec.diagnostics import Diagnostic, error
from netspec.pinpoint import pinpoint
from tests.helpers import CLASSIFIER, GOOGLENET, spec


def render(body: str) -> tuple[Diagnostic, list[str]]:
    text = spec(body)
    (diagnostic,) = check_text(text, "t.ns").diagnostics
    return diagnostic, pinpoint(diagnostic, text).split("\n")


def caret(lines: list[str]) -> tuple[int, int]:
    """(1-based column, width) of the caret under the quoted source line."""
    marks = next(line for line in lines if line.strip().startswith("|") and "^" in line)
    under = marks.split("| ", 1)[1]
    start = under.index("^")
    return start + 1, len(under) - start


@pytest.mark.parametrize(
    ("body", "first_line", "quoted", "column", "width"),
    [
        (
            "conv 3x3 0\n",
            "t.ns:4:10: error[invalid-value]: conv filters must be a whole number >= 1, not 0",
            "4 | conv 3x3 0",
            10,
            1,
        ),
        (
            "stem:\n  conv 3x3/0 8\n",
            "t.ns:5:12: error[invalid-value]: a stride must be a whole number >= 1, not 0",
            "5 |   conv 3x3/0 8",
            12,
            1,
        ),
        (
            "conv 3x3 64 foo\n",
            "t.ns:4:13: error[unknown-option]: unknown option 'foo' for conv",
            "4 | conv 3x3 64 foo",
            13,
            3,
        ),
        (
            "conv 3 3\n",
            "t.ns:4:6: error[syntax]: unexpected '3': expected a kernel like 3x3 or 3x3/2",
            "4 | conv 3 3",
            6,
            1,
        ),
        (
            "branch: conv 1x1 8\nmerge residual scale=0\n",
            "t.ns:5:22: error[invalid-value]: scale must be > 0, not 0",
            "5 | merge residual scale=0",
            22,
            1,
        ),
    ],
)
def test_pinpoint_quotes_the_line_and_puts_the_caret_under_the_token(
    body: str, first_line: str, quoted: str, column: int, width: int
) -> None:
    diagnostic, lines = render(body + CLASSIFIER)
    assert lines[0] == first_line
    assert quoted in lines
    assert caret(lines) == (column, width)
    assert caret(lines)[0] == diagnostic.column


def test_a_hint_follows_the_caret() -> None:
    _, lines = render("foo x\n" + CLASSIFIER)
    assert lines == [
        "t.ns:4:1: error[unknown-module]: unknown layer or module 'foo'",
        "  |",
        "4 | foo x",
        "  | ^^^",
        "  = hint: modules in this spec: none defined",
    ]


def test_the_gutter_widens_with_the_line_number() -> None:
    text = spec("# padding\n" * 120 + "conv 3x3 0\n" + CLASSIFIER)
    (diagnostic,) = check_text(text, "t.ns").diagnostics
    lines = pinpoint(diagnostic, text).split("\n")
    assert lines[1:4] == ["    |", "124 | conv 3x3 0", "    |          ^"]


def test_a_file_level_diagnostic_has_no_source_line() -> None:
    diagnostic = error("file-not-found", "no such spec file: nope.ns", "nope.ns")
    assert (
        pinpoint(diagnostic, None) == "nope.ns: error[file-not-found]: no such spec file: nope.ns"
    )


def test_pinpoint_on_a_shipped_spec() -> None:
    text = GOOGLENET.read_text(encoding="utf-8").replace("dense 1024\n", "dense 1024 relu9\n", 1)
    (diagnostic,) = check_text(text, "specs/googlenet.ns").diagnostics
    lines = pinpoint(diagnostic, text).split("\n")
    assert lines[0] == (
        "specs/googlenet.ns:34:16: error[unknown-option]: unknown option 'relu9' for dense"
    )
    assert lines[2] == "34 |     dense 1024 relu9"
    assert caret(lines) == (16, 5)
