"""Fuzzing the front end: whatever the text, `check_text` returns a Report, never raises.

Every diagnostic it gives points inside the text (line 0 only for file-level problems),
renders as a pinpoint, and a syntax error never names a grammar terminal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspec.analysis.report import Report
from netspec.api import check_file, check_text
from netspec.diagnostics import Severity
from netspec.pinpoint import pinpoint
from tests.helpers import CLASSIFIER, HEADER, SHIPPED_SPECS, TERMINAL_NAME

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FILE_LEVEL = {"file-not-found", "unreadable"}
LAYOUT = {"syntax", "tab-indent", "bad-character", "indentation"}


def well_formed(text: str) -> Report:
    """Check the text and hold every diagnostic to the rules above."""
    report = check_text(text, "fuzz.ns")
    assert_inside(report, text, "fuzz.ns")
    return report


def assert_inside(report: Report, text: str, file: str) -> None:
    assert isinstance(report, Report)
    lines = text.split("\n")
    for diagnostic in report.diagnostics:
        assert diagnostic.code and diagnostic.message
        assert diagnostic.severity in (Severity.error, Severity.warning, Severity.note)
        if diagnostic.line == 0:
            assert diagnostic.code in FILE_LEVEL and diagnostic.column == 0, diagnostic
            continue
        assert 1 <= diagnostic.line <= len(lines), diagnostic
        assert 1 <= diagnostic.column <= len(lines[diagnostic.line - 1]) + 1, diagnostic
        if diagnostic.code == "syntax":
            expected = diagnostic.message.partition("expected ")[2]
            assert not TERMINAL_NAME.search(expected), diagnostic.message
        rendered = pinpoint(diagnostic, text)
        assert rendered.startswith(f"{file}:{diagnostic.line}:{diagnostic.column}: ")
    if report.totals is not None:
        # The inference model's totals hold even where an aux head cannot be built (its
        # figures are None then, and its unbuilt layers have no rows).
        assert report.totals.params == sum(row.params for row in report.layers if not row.aux)
        if report.totals.aux_params is not None:
            assert report.totals.aux_params == sum(row.params for row in report.layers if row.aux)
        assert all(min(row.output) >= 1 for row in report.layers)


# -- random text and bytes ---------------------------------------------------------------------

# Pieces of spec text, so random strings get past the lexer and into the grammar.
SPEC_PIECES = st.lists(
    st.sampled_from(
        [*'conv3x1/2 :->#=,.()"bracheiupgdflnmts_09\t\r', "\n", "\n  ", "conv ", "3x3 "]
    ),
    max_size=150,
).map("".join)


@FUZZ
@given(st.one_of(st.text(max_size=300), SPEC_PIECES))
def test_random_text(text: str) -> None:
    well_formed(text)
    well_formed(HEADER + text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_decoded_leniently(data: bytes) -> None:
    well_formed(data.decode("utf-8", errors="replace"))
    well_formed(data.decode("latin-1"))


@pytest.fixture(scope="module")
def junk_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "junk.ns"


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_as_a_file(junk_file: Path, data: bytes) -> None:
    junk_file.write_bytes(data)
    report = check_file(junk_file)
    assert report.diagnostics  # random bytes are never a whole spec
    assert_inside(report, data.decode("utf-8", errors="replace"), str(junk_file))


# -- mutations of the shipped specs ------------------------------------------------------------

SHIPPED = [path.read_text(encoding="utf-8").split("\n") for path in SHIPPED_SPECS]
TOKENS = [
    "conv", "3x3", "3x3/2", "1x7", "->", ":", "branch:", "merge", "residual", "scale=0.1",
    "repeat 2:", "aux", "#", "=", ",", "/", "-", "(", ")", "classes", "0", "-1", "1e999",
    "99999999999999999999", "\t", '"', "module", "stem:", "head:", "stage", "gap", "dense",
    "inception x 1/2-3/4-5/6", "valid", "bn", "  ", "é", "\x00", "\r", "block",
]  # fmt: skip
NUMBER = re.compile(r"\d+(\.\d+)?")


@st.composite
def mutated_spec(draw: st.DrawFn) -> str:
    lines = list(draw(st.sampled_from(SHIPPED)))
    for _ in range(draw(st.integers(1, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["delete", "duplicate", "swap", "token", "number", "tab"]))
        if operation == "delete":
            del lines[i]
        elif operation == "duplicate":
            lines.insert(i, lines[i])
        elif operation == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif operation == "token":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = f"{lines[i][:at]}{draw(st.sampled_from(TOKENS))} {lines[i][at:]}"
        elif operation == "number" and (numbers := list(NUMBER.finditer(lines[i]))):
            match = draw(st.sampled_from(numbers))
            new = draw(st.sampled_from(["0", "-1", "1", "0.5", "9" * 30, "9" * 400, "1e999"]))
            lines[i] = lines[i][: match.start()] + new + lines[i][match.end() :]
        elif operation == "tab":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + "\t" + lines[i][at:]
    return "\n".join(lines)


@pytest.mark.slow
@settings(FUZZ, max_examples=250)
@given(mutated_spec())
def test_mutated_shipped_specs(text: str) -> None:
    well_formed(text)


# -- random specs from a small grammar of valid statements -------------------------------------

CONV = st.builds(
    "conv {}x{}{} {}{}".format,
    st.sampled_from([1, 3, 5]),
    st.sampled_from([1, 3]),
    st.sampled_from(["", "/1", "/2"]),
    st.integers(1, 32),
    st.sampled_from(["", " valid", " same", " bn", " linear", " relu nobias", " bn bias"]),
)
POOL = st.builds(
    "{} {}x{}{}".format,
    st.sampled_from(["maxpool", "avgpool"]),
    st.sampled_from([2, 3]),
    st.sampled_from([2, 3]),
    st.sampled_from(["", "/1", "/2", "/1 same", "/2 valid"]),
)
PLAIN = st.sampled_from(["bn", "lrn", "dropout 0.3", "bn scale=false", "lrn size=3"])
INCEPTION = st.builds(
    "inception {} {}/{}-{}/{}-{}/{}".format, st.uuids().map(lambda u: f"i{u.hex[:6]}"),
    *[st.integers(1, 16)] * 6,
)  # fmt: skip
LAYER = st.one_of(CONV, CONV, POOL, PLAIN, INCEPTION)
CHAIN = st.lists(LAYER, min_size=1, max_size=3).map(" -> ".join)
MERGES = ["", "merge concat", "merge residual scale=0.2", "merge residual scale=1 linear"]


def indented(lines: list[str]) -> list[str]:
    return ["  " + line for line in lines]


@st.composite
def block(draw: st.DrawFn, depth: int = 0) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["chain", "chain", "group", "repeat"] if depth < 2 else ["chain"])
        )
        if kind == "chain":
            lines.append(draw(CHAIN))
        elif kind == "group":
            for _ in range(draw(st.integers(1, 3))):
                body = draw(block(depth + 1))
                one_chain = len(body) == 1 and not body[0].startswith(("branch", "repeat"))
                if one_chain and draw(st.booleans()):
                    lines.append(f"branch: {body[0]}")
                else:
                    lines += ["branch:", *indented(body)]
            lines += [merge for merge in [draw(st.sampled_from(MERGES))] if merge]
        else:
            lines += [f"repeat {draw(st.integers(1, 3))}:", *indented(draw(block(depth + 1)))]
    return lines


@st.composite
def generated_spec(draw: st.DrawFn) -> str:
    size = draw(st.sampled_from([8, 16, 32]))
    lines = [f"network g\ninput {size}x{size}x{draw(st.integers(1, 4))}\nclasses 10"]
    if draw(st.booleans()):
        lines += ["defaults:", f"  conv {draw(st.sampled_from(['relu same', 'bn', 'valid']))}"]
    modules = draw(st.integers(0, 2))
    for index in range(modules):
        lines += [f"module m{index}(w):", *indented(draw(block(1))), "  conv 1x1 w"]
    sections = draw(st.booleans())
    for index in range(draw(st.integers(1, 3))):
        body = draw(block())
        if modules:
            body.append(f"m{draw(st.integers(0, modules - 1))} w={draw(st.integers(1, 8))}")
        if draw(st.booleans()):
            body += ["aux a" + str(index) + ":", "  gap", "  dense classes"]
        lines += [f"stage {index}:", *indented(body)] if sections else body
    if draw(st.booleans()):
        lines += ["head:", "  gap", "  dense classes"]
    if draw(st.booleans()):
        lines += ["train:", "  epochs 3", "  optimizer adam lr=0.001"]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@settings(FUZZ, max_examples=200)
@given(generated_spec())
def test_generated_specs_always_parse(text: str) -> None:
    report = well_formed(text)
    layout = [(d.code, d.line, d.message) for d in report.diagnostics if d.code in LAYOUT]
    assert layout == []


# -- fixed extremes ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_10000_line_spec_checks_without_error() -> None:
    report = well_formed(HEADER + "conv 1x1 8\n" * 10_000 + CLASSIFIER)
    assert report.diagnostics == ()
    assert len(report.layers) == 1 + 10_000 + 2
    assert report.totals.params == (3 * 8 + 8) + 9_999 * (8 * 8 + 8) + (8 * 10 + 10)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "missing-header"),
        ("\n\n   \n", "missing-header"),
        ("\x00\x01\x02\xff", "bad-character"),
        ("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "bad-character"),
        ("PK\x03\x04\x14\x00", "bad-character"),
    ],
)
def test_empty_and_binary_text_give_diagnostics(text: str, code: str) -> None:
    report = well_formed(text)
    assert [d.code for d in report.diagnostics] == [code]


def test_a_binary_file_is_an_encoding_error(tmp_path: Path) -> None:
    path = tmp_path / "model.ns"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    (diagnostic,) = check_file(path).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("encoding", 1, 1)
