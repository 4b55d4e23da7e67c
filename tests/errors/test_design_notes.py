"""The design principles' advice (bottleneck, receptive field, factorization): once per module
definition, naming its instances; a warning on Inception-style networks (the `inception`
shorthand, or a module whose branches meet in a concat), a note on any other.

Snippets follow a 3-line header, so their first line is line 4.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from netspec.api import check_path, check_text
from netspec.diagnostics import Diagnostic, Severity
from netspec.lsp.diagnostics import lsp_diagnostics
from netspec.syntax import ast
from tests.helpers import CLASSIFIER, REPO, check, header

ADVICE = ("bottleneck", "receptive-field", "factorization-grid")

# A 64 -> 4 channel 1x1 inside a module: a 16x bottleneck in every instance, at the
# module body's line 5.
SQUEEZE = "module squeeze:\n  conv 1x1 4\n  conv 3x3 64\nconv 3x3 64\n"
INSTANCES = "squeeze a\nsqueeze b\nsqueeze c\n"
# What makes a network Inception-style, put before the classifier of the snippets below.
CONCAT_MODULE = "module mixed:\n  branch: conv 1x1 32\n  branch: conv 3x3 32\nmixed m\n"
SHORTHAND = "inception i 16/8-16/4-8/8\n"


def advice(diagnostics: tuple[Diagnostic, ...]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code in ADVICE]


def test_a_modules_advice_is_said_once_naming_every_instance() -> None:
    report = check(SQUEEZE + INSTANCES + CLASSIFIER)
    (bottleneck,) = advice(report.diagnostics)
    assert (bottleneck.code, bottleneck.line, bottleneck.column) == ("bottleneck", 5, 3)
    assert bottleneck.message.endswith("; module `squeeze` does this 3 times, in a, b, c")
    assert bottleneck.layers == ("a/conv1", "b/conv1", "c/conv1")


def test_the_output_layer_of_each_instance_is_one_diagnostic_too() -> None:
    # The flagged conv ends each instance, so each sits at its own instance line: still one.
    body = "module squeeze:\n  conv 3x3 64\n  conv 1x1 4\n" + INSTANCES + CLASSIFIER
    (bottleneck,) = advice(check(body).diagnostics)
    assert (bottleneck.line, bottleneck.layers) == (7, ("a", "b", "c"))
    assert "3 times, in a, b, c" in bottleneck.message


def test_advice_outside_modules_stays_one_per_layer() -> None:
    body = "conv 3x3 64\nconv 1x1 4\nconv 3x3 64\nconv 1x1 4\n" + CLASSIFIER
    assert [(d.code, d.line) for d in advice(check(body).diagnostics)] == [
        ("bottleneck", 5),
        ("bottleneck", 7),
    ]


@pytest.mark.parametrize(
    ("inception_style", "severity", "lsp"),
    [
        ("", Severity.note, types.DiagnosticSeverity.Information),
        (CONCAT_MODULE, Severity.warning, types.DiagnosticSeverity.Warning),
        (SHORTHAND, Severity.warning, types.DiagnosticSeverity.Warning),
    ],
    ids=["plain", "concat module", "inception shorthand"],
)
def test_advice_is_a_warning_only_on_inception_style_networks(
    inception_style: str, severity: Severity, lsp: types.DiagnosticSeverity
) -> None:
    text = header() + SQUEEZE + INSTANCES + inception_style + CLASSIFIER
    report = check_text(text, "t.ns")
    (bottleneck,) = [d for d in report.diagnostics if d.line == 5]
    assert (bottleneck.code, bottleneck.severity) == ("bottleneck", severity)
    (served,) = [d for d in lsp_diagnostics(report, text) if d.range.start.line == 4]
    assert served.severity == lsp


def test_the_concat_inside_a_residual_merge_is_not_an_inception_module() -> None:
    residual = (
        "module res:\n  branch: conv 1x1 64\n  branch: conv 3x3 64\n  merge residual\nres r\n"
    )
    diagnostics = check(SQUEEZE + INSTANCES + residual + CLASSIFIER).diagnostics
    assert [d.severity for d in advice(diagnostics)] == [Severity.note]


def test_a_collapsing_map_stays_a_warning_on_any_network() -> None:
    diagnostics = check("conv 40x40 8\n" + CLASSIFIER).diagnostics
    assert [(d.code, d.severity) for d in diagnostics] == [("window-exceeds-map", Severity.warning)]


def _written_inception_style(spec: ast.Spec) -> bool:
    """From the syntax tree, apart from the analysis: an `inception` line, or a module whose
    body has a group of branches merged by concat (written, or by default)."""

    def concat_group(statements: tuple[ast.Statement, ...]) -> bool:
        return any(
            isinstance(s, ast.BranchGroup)
            and (s.merge is None or s.merge.mode == "concat")
            and len(s.branches) > 1
            for s in statements
        )

    def inception_line(statements: tuple[ast.Statement, ...]) -> bool:
        for s in statements:
            if isinstance(s, ast.InceptionStmt):
                return True
            if isinstance(s, (ast.SectionStmt, ast.RepeatStmt)) and inception_line(s.body):
                return True
        return False

    return inception_line(spec.statements) or any(
        isinstance(s, ast.ModuleDef) and concat_group(s.body) for s in spec.statements
    )


SHIPPED = sorted([*(REPO / "specs").rglob("*.ns"), *(REPO / "examples").rglob("*.ns")])


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(REPO)) for p in SHIPPED])
def test_every_shipped_spec_weighs_its_advice_by_how_it_is_written(path: Path) -> None:
    # At its own size, and at 32x32 and 96x96, where most of them give advice.
    for size in (None, (32, 32, None), (96, 96, None)):
        checked = check_path(path, size)
        assert checked.spec is not None
        expected = Severity.warning if _written_inception_style(checked.spec) else Severity.note
        found = advice(checked.report.diagnostics)
        assert {d.severity for d in found} <= {expected}
        # Once per module and code: no two of a code flag layers of one module.
        layers = {row.name: row for row in checked.report.layers}
        spoken = [(d.code, layers[d.layers[0]].module) for d in found if layers[d.layers[0]].module]
        assert len(spoken) == len(set(spoken)), spoken


def test_the_inception_specs_keep_their_warnings_and_the_others_get_notes() -> None:
    # GoogLeNet on CIFAR-100 without its last group sees the whole input too early.
    minus_one = check_path(REPO / "examples/cifar100/minus_one_group.ns").report
    assert ("receptive-field", Severity.warning) in [
        (d.code, d.severity) for d in minus_one.diagnostics
    ]
    assert not check_path(REPO / "specs/zoo/resnet50.ns").report.has_warnings
    mobilenet = check_path(REPO / "specs/zoo/mobilenet.ns", (32, 32, None)).report
    # Its map collapses at 32x32 (a warning on any network); the advice is notes.
    assert {(d.code, d.severity) for d in advice(mobilenet.diagnostics)} == {
        ("bottleneck", Severity.note),
        ("receptive-field", Severity.note),
    }
