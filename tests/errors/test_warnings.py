"""Warnings: collapsing maps and the Inception design principles (Szegedy et al. 2015).

Snippets follow a 3-line header, so their first line is line 4.
"""

from __future__ import annotations

import pytest

from netspec.api import check_text
from netspec.diagnostics import Severity
from tests.helpers import CLASSIFIER, check, diagnose, header, spec

COLLAPSING = "maxpool 2x2\nmaxpool 2x2\nmaxpool 2x2\nconv 3x3 16\nconv 1x1 16\n" + CLASSIFIER
EARLY_FULL_FIELD = (
    "conv 7x7/2 32\nmaxpool 3x3/2\nconv 3x3 64\nconv 3x3 64\nconv 3x3 64\n"
    "conv 3x3 256\nconv 3x3 256\n" + CLASSIFIER
)

WARNING, NOTE = Severity.warning, Severity.note
# The design principles' advice is a note on these plain networks (test_design_notes.py has
# the Inception-style ones, where it is a warning); a collapsing map is always a warning.
CASES = [
    # (header, snippet, diagnostics)
    (
        header(8, 8, 16),
        COLLAPSING,
        [("collapse", 6, 1, WARNING), ("receptive-field", 6, 1, NOTE)],
    ),
    (header(4, 4, 8), "conv 5x5 8\n" + CLASSIFIER, [("window-exceeds-map", 4, 1, WARNING)]),
    (header(), "conv 3x3 64\nconv 1x1 4\n" + CLASSIFIER, [("bottleneck", 5, 1, NOTE)]),
    (header(), EARLY_FULL_FIELD, [("receptive-field", 8, 1, NOTE)]),
    (
        header(32, 32, 8),
        "conv 1x7 8 -> conv 7x1 8\n" + CLASSIFIER,
        [("factorization-grid", 4, 1, NOTE)],
    ),
]


@pytest.mark.parametrize(("head", "body", "expected"), CASES, ids=[c[1] for c in CASES])
def test_warning(head: str, body: str, expected: list[tuple[str, int, int, Severity]]) -> None:
    report = check(body, head)
    assert [(d.code, d.line, d.column, d.severity) for d in report.diagnostics] == expected
    assert report.totals is not None  # a warning never stops the sizing


def test_collapse_names_the_layer_and_the_layers_that_then_see_padding() -> None:
    collapse = check(COLLAPSING, header(8, 8, 16)).diagnostics[0]
    assert collapse.message == (
        "maxpool3: the feature map collapses to 1x1 here (2x2x16 -> 1x1x16) before the head; "
        "after it 1 layer(s) see only padding: conv1"
    )


def test_a_map_that_starts_at_1x1_does_not_collapse() -> None:
    found = diagnose("conv 1x1 8\n" + CLASSIFIER, header(1, 1, 8))
    assert "collapse" not in [code for code, _, _ in found]
    assert 2 not in [line for _, line, _ in found]  # nothing is pinned to the `input` line


def test_bottleneck_is_worse_early() -> None:
    # "early": in the first third of the trunk's feature maps
    (early,) = check("conv 3x3 64\nconv 1x1 4\n" + "conv 3x3 4\n" * 4 + CLASSIFIER).diagnostics
    assert (early.code, early.line) == ("bottleneck", 5)
    assert early.message.endswith("this early in the network")
    late = "conv 3x3 64\n" * 6 + "conv 1x1 4\n" + CLASSIFIER
    (bottleneck,) = check(late).diagnostics
    assert (bottleneck.code, bottleneck.line) == ("bottleneck", 10)
    assert not bottleneck.message.endswith("this early in the network")


@pytest.mark.parametrize(
    "body",
    [
        "conv 3x3/2 32\n" + CLASSIFIER,  # a same-padded stride-2 step: 4x fewer positions
        "conv 3x3/2 32 valid\n" + CLASSIFIER,  # valid's lost border does not count
        "conv 3x3 16\nbranch: maxpool 3x3/2\nbranch: conv 3x3/2 48\n" + CLASSIFIER,
    ],
)
def test_a_reduction_that_widens_is_not_a_bottleneck(body: str) -> None:
    assert "bottleneck" not in [code for code, _, _ in diagnose(body)]


def test_factorization_on_a_medium_grid_is_fine() -> None:
    assert diagnose("conv 1x7 8 -> conv 7x1 8\n" + CLASSIFIER, header(16, 16, 8)) == []
    # a lone 1xn conv is not a factorization
    assert diagnose("conv 1x7 8\nconv 1x1 8\n" + CLASSIFIER, header(32, 32, 8)) == []


def test_a_small_classifier_cnn_has_no_receptive_field_warning() -> None:
    # gap and flatten see the whole map by definition: they are the head, not "late stages".
    assert diagnose("conv 3x3 16\nflatten\ndense 512\ndense classes\n") == []
    assert diagnose("conv 3x3 16\ngap\ndense 512\ndense classes\n") == []


def test_aux_layers_do_not_warn() -> None:
    body = "conv 3x3 64\naux a:\n  conv 1x1 2\n  gap\n  dense classes\n" + CLASSIFIER
    assert diagnose(body) == []


def test_a_warning_can_be_allowed_on_its_line_but_an_error_cannot() -> None:
    body = "conv 3x3 8\nconv 1x7 8\nconv 7x1 8\ngap\ndense classes\n"
    warned = check(body).diagnostics
    assert [d.code for d in warned] == ["factorization-grid"]
    line = warned[0].line
    lines = spec(body).split("\n")
    lines[line - 1] += "   # allow: bottleneck, factorization-grid"
    assert check_text("\n".join(lines)).diagnostics == ()
    lines[line - 1] = lines[line - 1].replace("factorization-grid", "collapse")
    assert [d.code for d in check_text("\n".join(lines)).diagnostics] == ["factorization-grid"]
    broken = spec(
        "conv 3x3 8\nmaxpool 40x40 valid   # allow: window-too-large\ngap\ndense classes\n"
    )
    assert [d.code for d in check_text(broken).diagnostics] == ["window-too-large"]
