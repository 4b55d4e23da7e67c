"""Errors from analysis: layers that cannot be built on the shapes they receive, and heads.

Snippets follow a 3-line header, so their first line is line 4.
"""

from __future__ import annotations

import pytest

from tests.helpers import CLASSIFIER, check, diagnose, header

CASES = [
    # (header, snippet, diagnostics)
    (header(4, 4), "conv 5x5 8 valid\n" + CLASSIFIER, [("window-too-large", 4, 1)]),
    (header(4, 4), "conv 1x1 8\navgpool 5x5/3 valid\n" + CLASSIFIER, [("window-too-large", 5, 1)]),
    (header(9, 4), "maxpool 3x5 valid\n" + CLASSIFIER, [("window-too-large", 4, 1)]),
    (header(), "gap\nconv 1x1 8\n" + CLASSIFIER, [("needs-feature-map", 5, 1)]),
    (header(), "flatten\nmaxpool 2x2\n" + CLASSIFIER, [("needs-feature-map", 5, 1)]),
    (header(), "gap\ngap\ndense classes\n", [("needs-feature-map", 5, 1)]),
    (
        header(),
        "gap\nbranch: dense 4\nbranch: dense 6\nmerge residual\ndense classes\n",
        [("needs-feature-map", 5, 1)],
    ),
    (header(), "conv 1x1 8\ndense 10\n", [("dense-needs-flat", 5, 1)]),
    (
        header(),
        "branch: conv 3x3/2 8\nbranch: conv 1x1 8\n" + CLASSIFIER,
        [("concat-mismatch", 4, 1)],
    ),
    (
        header(),
        "branch: maxpool 3x3/2 valid\nbranch: conv 3x3/2 8\n" + CLASSIFIER,
        [("concat-mismatch", 4, 1)],
    ),
    (
        header(),
        "branch: conv 3x3/2 8\nbranch: conv 1x1 8\nmerge residual scale=0.1\n" + CLASSIFIER,
        [("concat-mismatch", 4, 1)],  # the branches disagree before the shortcut is added
    ),
    (
        header(),
        "branch: conv 3x3/2 8\nmerge residual scale=0.1\n" + CLASSIFIER,
        [("add-mismatch", 4, 1)],  # a residual branch must keep the input's grid
    ),
    (header(), "conv 1x1 8\n", [("head-classes", 4, 1)]),
    (header(), "conv 1x1 8\ngap\ndense 5\n", [("head-classes", 6, 1)]),
    (
        header(),
        "conv 1x1 8\naux a:\n  gap\n  dense 10\n  dense 4\n" + CLASSIFIER,
        [("aux-classes", 8, 3)],
    ),
    (header(), "conv 1x1 8\naux a:\n  conv 1x1 10\n" + CLASSIFIER, [("aux-classes", 6, 3)]),
]


@pytest.mark.parametrize(("head", "body", "expected"), CASES, ids=[c[1] for c in CASES])
def test_shape_error(head: str, body: str, expected: list[tuple[str, int, int]]) -> None:
    assert diagnose(body, head) == expected


def test_messages_name_the_layer_and_the_shapes() -> None:
    (window,) = check("conv 5x5 8 valid\n" + CLASSIFIER, header(4, 4)).diagnostics
    assert window.message == (
        "conv1: a 5x5 window does not fit the 4x4 map it gets with valid padding"
    )
    (concat,) = check("branch: conv 3x3/2 8\nbranch: conv 1x1 8\n" + CLASSIFIER).diagnostics
    assert concat.message == (
        "g1/concat: the branches of this group disagree on spatial size (16x16x8, 32x32x8); "
        "they must match to be concatenated"
    )
    (head,) = check("conv 1x1 8\ngap\ndense 5\n").diagnostics
    assert head.message == (
        "the network ends in a vector of 5, not the 10 class scores that `classes 10` asks for"
    )
    assert head.hint == "end it with `dense classes`"


def test_layers_after_a_failed_layer_are_not_reported_again() -> None:
    body = "conv 7x7 8 valid\nconv 3x3 8\ndense 4\n" + CLASSIFIER
    report = check(body, header(4, 4))
    assert [(d.code, d.line) for d in report.diagnostics] == [("window-too-large", 4)]
    assert report.totals is None
    assert [row.name for row in report.layers] == ["input"]


def test_a_broken_aux_head_leaves_the_trunk_sized() -> None:
    body = "conv 1x1 8\naux a:\n  avgpool 5x5/3 valid\n  flatten\n  dense classes\n" + CLASSIFIER
    report = check(body, header(4, 4))
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("window-too-large", 6, 3)]
    assert {row.name for row in report.layers} >= {"conv1", "gap1", "dense1"}
