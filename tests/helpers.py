"""Shared helpers for the front-end tests: a spec snippet in, a report or diagnostics out.

Test files import these as `from tests.helpers import ...` (the README's `python -m pytest`
puts the repository root on the path; the test directories have no `__init__.py`).
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from netspec.analysis.report import LayerReport, Report
from netspec.api import InputSize, check_text, compile_text
from netspec.diagnostics import Diagnostic, NetspecError
from netspec.ir import Network

REPO = Path(__file__).resolve().parents[1]
SPECS = REPO / "specs"
GOOGLENET = SPECS / "googlenet.ns"
CIFAR_TRIMMED = SPECS / "cifar_trimmed.ns"
SHIPPED_SPECS = (GOOGLENET, CIFAR_TRIMMED)

HEADER = "network t\ninput 32x32x3\nclasses 10\n"
# `spec()` puts the snippet after the three header lines: its first line is line 4.
FIRST_BODY_LINE = 4
# A classifier that ends a snippet cleanly, so the only diagnostics are the ones under test.
CLASSIFIER = "gap\ndense classes\n"

# A grammar terminal's own name: ALL-CAPS (KERNEL, NAME, _NL, $END) or anonymous (__ANON_0).
TERMINAL_NAME = re.compile(r"(?<![\w'])_*[A-Z][A-Z0-9_]+(?![\w'])|__(?:ANON|anon)|\$END")


# A small input for specs that Keras builds in tests; EVERY_KIND uses it.
SMALL_HEADER = "network t\ninput 8x8x4\nclasses 3\n"
# Every IR layer kind at least once: for the tests that must cover each.
EVERY_KIND = """\
rescale 1/255 offset=-1
normalize
normalize mean=0.5 variance=1,2,0.5,4
normalize mean=0.1,-0.2,0.3,0.4 variance=2
conv 3x3 8 bn
layernorm eps=1e-6
pointwise 8 gelu
layerscale 1e-6
dropout 0.2 per_sample
lrn
pad 1 -> maxpool 2x2/1 valid
avgpool 2x2/1 same
dwconv 3x3 mult=2 bn relu6
sepconv 3x3 8 nobias
conv 3x3 8 groups=4
branch: conv 1x1 4
branch: conv 1x1 4
merge residual scale=0.2
branch: identity
branch: gap -> dense 2 relu -> dense 8 sigmoid
merge mul
branch: conv 1x1 8
branch: identity
merge add relu
aux a weight=0.2:
  gmp
  dense classes
branch: conv 1x1 2
branch: maxpool 3x3/1 same
merge concat
maxpool to 4x4
avgpool to 2x2
flatten
dropout 0.1
dense 4 nobias bn linear
dense classes
"""


def snippet(text: str) -> str:
    """A triple-quoted snippet as a spec would hold it: dedented, a leading newline dropped."""
    return textwrap.dedent(text).removeprefix("\n")


def spec(body: str, header: str = HEADER) -> str:
    """The header, then the snippet."""
    return header + snippet(body)


def header(height: int = 32, width: int = 32, channels: int = 3, classes: int = 10) -> str:
    return f"network t\ninput {height}x{width}x{channels}\nclasses {classes}\n"


def check(body: str, head: str = HEADER, input_size: InputSize | None = None) -> Report:
    return check_text(spec(body, head), "t.ns", input_size)


def compile_spec(body: str, head: str = HEADER) -> Network:
    return compile_text(spec(body, head), "t.ns")


def clean(body: str, head: str = HEADER) -> Report:
    """The report of a snippet that must check without a single diagnostic."""
    report = check(body, head)
    assert report.diagnostics == (), [d.message for d in report.diagnostics]
    return report


def built(body: str, head: str = HEADER) -> Report:
    """The report of a snippet that must build: warnings allowed, errors not."""
    report = check(body, head)
    errors = [d.message for d in report.diagnostics if d.is_error]
    assert not errors, errors
    return report


def layer(report: Report, name: str) -> LayerReport:
    found = [row for row in report.layers if row.name == name]
    assert found, f"no layer {name!r}; layers: {[row.name for row in report.layers]}"
    return found[0]


def statement(report: Report, name: str) -> tuple[tuple[int, int, int], int, int]:
    """(output, params, MACs) of the statement whose node is `name`, with the nodes it lowered
    to beside it (`conv ... bn` is a conv, a batch norm and an activation)."""
    parts = [row for row in report.layers if name in (row.name, row.part_of)]
    return layer(report, name).output, sum(p.params for p in parts), sum(p.macs for p in parts)


def where(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> list[tuple[str, int, int]]:
    """Each diagnostic as (code, line, column): what the tests compare."""
    return [(d.code, d.line, d.column) for d in diagnostics]


def diagnose(body: str, head: str = HEADER) -> list[tuple[str, int, int]]:
    return where(check(body, head).diagnostics)


def only_diagnostic(text: str, input_size: InputSize | None = None) -> Diagnostic:
    """The one diagnostic a whole spec text gives."""
    diagnostics = check_text(text, "t.ns", input_size).diagnostics
    assert len(diagnostics) == 1, [(d.code, d.line, d.column, d.message) for d in diagnostics]
    return diagnostics[0]


def compile_errors(body: str, head: str = HEADER) -> list[tuple[str, int, int]]:
    """The diagnostics `compile_text` raises for a snippet that cannot build."""
    with pytest.raises(NetspecError) as caught:
        compile_spec(body, head)
    return where(caught.value.diagnostics)


def position(text: str, token: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the n-th occurrence of `token` in `text`."""
    index = -1
    for _ in range(occurrence):
        index = text.index(token, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def flat(output: str) -> str:
    """Output as one line: rich's wrapping, its error box's borders and line breaks dropped."""
    return " ".join(output.replace("│", " ").split())
