"""Diagnostics from lowering: values, options, settings, modules, names and structure.

Snippets follow the 3-line header of `tests.helpers.HEADER`, so their first line is line 4.
Each case is the whole list of diagnostics the snippet gives: one bad node, one error.
"""

from __future__ import annotations

import pytest

from netspec.api import check_text
from netspec.diagnostics import NetspecError
from netspec.lowering import lower
from netspec.syntax import ast
from netspec.syntax.parser import MAX_BLOCK_DEPTH, parse
from tests.helpers import CLASSIFIER, check, diagnose, spec, where

M = "module m(a):\n  conv 3x3 a\n"  # lines 4-5: a module to instantiate

CASES = [
    # invalid-value: the caret lands on the value
    ("dropout 1.5\n", [("invalid-value", 4, 9)]),
    ("conv 3x3 0\n", [("invalid-value", 4, 10)]),
    ("conv 0x3 8\n", [("invalid-value", 4, 6)]),
    ("conv 3x3/0 8\n", [("invalid-value", 4, 10)]),  # at the stride
    ("maxpool 3x0\n", [("invalid-value", 4, 11)]),  # the side that is 0
    ("dense 0.5\n", [("invalid-value", 4, 7)]),
    ("repeat 0:\n  conv 1x1 8\n", [("invalid-value", 4, 8)]),
    ("lrn size=0\n", [("invalid-value", 4, 10)]),
    ("bn momentum=1\n", [("invalid-value", 4, 13)]),
    ("bn scale=maybe\n", [("invalid-value", 4, 10)]),
    ("bn epsilon=1,2\n", [("invalid-value", 4, 4)]),
    (
        "branch: conv 1x1 8\nmerge residual scale=0\n",
        [("invalid-value", 5, 22)],
    ),
    # unknown-option: the caret lands on the option
    ("conv 3x3 64 foo\n", [("unknown-option", 4, 13)]),
    ("conv 3x3 64 valid=1\n", [("unknown-option", 4, 13)]),
    ("maxpool 3x3/2 relu\n", [("unknown-option", 4, 15)]),
    ("gap foo\n", [("unknown-option", 4, 5)]),
    ("dense 10 foo\n", [("unknown-option", 4, 10)]),
    ("bn foo=1\n", [("unknown-option", 4, 4)]),
    ("lrn depth=3\n", [("unknown-option", 4, 5)]),
    ("branch: conv 1x1 8\nbranch: conv 1x1 8\nmerge concat x=1\n", [("unknown-option", 6, 14)]),
    ("branch: conv 1x1 8\nmerge residual tanhh\n", [("unknown-option", 5, 16)]),
    ("conv 1x1 8\naux a size=3:\n  gap\n  dense classes\n", [("unknown-option", 5, 7)]),
    # modules and instances
    ("foo x\n", [("unknown-module", 4, 1)]),
    (M + "m x\n", [("missing-argument", 6, 1)]),
    (M + "m x a=8 b=2\n", [("unknown-argument", 6, 9)]),
    (M + "m x a=8 a=2\n", [("duplicate-argument", 6, 9)]),
    ("module m(a):\n  conv 3x3 b\nm x a=1\n", [("unknown-parameter", 5, 12)]),
    ("conv 1x1 width\n", [("unknown-parameter", 4, 10)]),
    ("module m:\n  m y\nm x\n", [("module-recursion", 5, 3)]),
    ("module m:\n  n y\nmodule n:\n  m z\nm x\n", [("module-recursion", 7, 3)]),
    ("module m:\n  conv 1x1 8\nmodule m:\n  conv 1x1 8\n", [("duplicate-module", 6, 8)]),
    ("module m(a, a):\n  conv 1x1 a\nm x a=1\n", [("duplicate-parameter", 4, 13)]),
    ("module m(classes):\n  conv 1x1 8\n", [("duplicate-parameter", 4, 10)]),
    ("module m:\n  conv 1x1 8\nm x\nm x\n", [("duplicate-name", 7, 3)]),
    ("inception x 1/1-1/1-1/1\ninception x 1/1-1/1-1/1\n", [("duplicate-name", 5, 11)]),
    (
        "module m:\n  aux side:\n    gap\n    dense classes\nm x\n",
        [("empty-module", 8, 3)],
    ),
    # groups, merges, sections, aux heads
    ("conv 1x1 8\nmerge concat\n", [("stray-merge", 5, 1)]),
    ("branch: conv 1x1 8\nbranch: conv 1x1 8\nmerge foo\n", [("unknown-merge", 6, 7)]),
    ("stem:\n  stage 3:\n    conv 1x1 8\n", [("nested-section", 5, 3)]),
    ("module m:\n  head:\n    gap\nm x\n", [("nested-section", 5, 3)]),
    ("branch:\n  stem:\n    conv 1x1 8\n", [("nested-section", 5, 3)]),
    ("conv 1x1 8\naux a:\n  aux b:\n    gap\n", [("nested-aux", 6, 3)]),
    # settings
    ("defaults:\n  foo relu\n", [("unknown-setting", 5, 3)]),
    ("defaults:\n  conv 3\n", [("invalid-value", 5, 8)]),
    ("defaults:\n  conv sideways\n", [("unknown-option", 5, 8)]),
    ("train:\n  foo 1\n", [("unknown-setting", 5, 3)]),
    ("train:\n  dataset imagenet\n", [("unknown-dataset", 5, 11)]),
    ("train:\n  dataset\n", [("unknown-dataset", 5, 3)]),
    ("train:\n  dataset folder\n", [("invalid-value", 5, 11)]),
    ("train:\n  dataset mnist extra\n", [("invalid-value", 5, 17)]),
    ("train:\n  epochs 0\n", [("invalid-value", 5, 3)]),
    ("train:\n  epochs\n", [("invalid-value", 5, 3)]),
    ("train:\n  optimizer lion\n", [("unknown-option", 5, 13)]),
    ("train:\n  optimizer sgd lr=0\n", [("invalid-value", 5, 3)]),
    ("train:\n  optimizer lr=0.1\n", [("invalid-value", 5, 3)]),
    ("train:\n  schedule step at=60 decay=2\n", [("unknown-option", 5, 23)]),
    ("train:\n  augment rotate\n", [("unknown-option", 5, 11)]),
    ("train:\n  augment inception_crop crop=4\n", [("invalid-value", 5, 3)]),
    ("train:\n  augment flip inception_crop=maybe\n", [("invalid-value", 5, 31)]),
    ("train:\n  augment distort=2\n", [("invalid-value", 5, 19)]),
    ("train:\n  dataset tfrecord\n", [("invalid-value", 5, 11)]),
    ("train:\n  dataset tfrecord 3\n", [("invalid-value", 5, 11)]),
    ("train:\n  eval_crop 0\n", [("invalid-value", 5, 3)]),
    ("train:\n  eval_crop 1.2\n", [("invalid-value", 5, 3)]),
    ("train:\n  eval_crop crop=0.8\n", [("invalid-value", 5, 3)]),
    ("train:\n  label_smoothing 1\n", [("invalid-value", 5, 3)]),
    ("train:\n  resize 0.5\n", [("invalid-value", 5, 3)]),
]


@pytest.mark.parametrize(("body", "expected"), CASES, ids=[body for body, _ in CASES])
def test_lowering_diagnostic(body: str, expected: list[tuple[str, int, int]]) -> None:
    assert diagnose(body + CLASSIFIER) == expected


def test_a_negative_number_parses_and_is_refused_where_it_cannot_stand() -> None:
    (diagnostic,) = check("conv 3x3 -1\n").diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("invalid-value", 4, 10)
    assert diagnostic.message == "conv filters must be a whole number >= 1, not -1"


def test_a_negative_aux_weight_is_an_invalid_value() -> None:
    (diagnostic,) = check("conv 1x1 8\naux a weight=-1:\n  gap\n").diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("invalid-value", 5, 7)


def test_two_aux_heads_with_one_name() -> None:
    body = "conv 1x1 8\naux a:\n  gap\n  dense classes\naux a:\n  gap\n  dense classes\n"
    assert diagnose(body + CLASSIFIER) == [("duplicate-name", 8, 1)]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("network t\ninput 32x32x3\nclasses 0\n", 3, 9),
        ("network t\ninput 32x32x3\nclasses 2.5\n", 3, 9),
        ("network t\ninput 0x32x3\nclasses 10\n", 2, 7),
    ],
)
def test_header_values_must_be_positive(text: str, line: int, column: int) -> None:
    assert where(check_text(text + CLASSIFIER).diagnostics) == [("invalid-value", line, column)]


def test_messages_say_what_is_wrong_in_the_users_words() -> None:
    messages = {d.code: d.message for d in check("dropout 1.5\n").diagnostics}
    assert messages == {"invalid-value": "a dropout rate must be in [0, 1), not 1.5"}
    (missing,) = check(M + "m x\n").diagnostics
    assert missing.message == "module 'm' needs a=..."
    (recursion,) = check("module m:\n  n y\nmodule n:\n  m z\nm x\n").diagnostics
    assert recursion.message == "module 'm' uses itself (m -> n -> m)"
    (unknown,) = check("conv 3x3 64 foo\n").diagnostics
    assert unknown.hint.startswith("expected one of: same, valid, bn, nobn, bias, nobias, relu")


def test_an_empty_network() -> None:
    assert diagnose("") == [("empty-network", 1, 1)]
    assert diagnose("module m:\n  conv 1x1 8\n") == [("empty-network", 1, 1)]


def test_a_runaway_repeat_is_too_large_and_said_once() -> None:
    body = "repeat 1000000000:\n  repeat 1000000000:\n    conv 1x1 8\n"
    (diagnostic,) = check(body).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("too-large", 5, 3)
    assert "50000 layers" in diagnostic.message


def test_blocks_nested_too_deeply_are_too_large_not_a_crash() -> None:
    depth = 400
    body = "".join("  " * level + "branch:\n" for level in range(depth))
    body += "  " * depth + "conv 1x1 8\n"
    # The first line deeper than the limit: header lines 1-3, `branch:` at depth d on 4+d.
    too_deep = MAX_BLOCK_DEPTH + 1
    assert diagnose(body) == [("too-large", 4 + too_deep, 2 * too_deep + 1)]


def test_blocks_at_the_depth_limit_still_build() -> None:
    depth = MAX_BLOCK_DEPTH
    body = "".join("  " * level + "branch:\n" for level in range(depth - 1))
    body += "  " * (depth - 1) + "branch: conv 1x1 8\n" + CLASSIFIER
    assert [d.code for d in check(body).diagnostics if d.is_error] == []


def test_an_empty_aux_head_from_a_hand_built_spec() -> None:
    # The grammar needs at least one statement in a block, and every statement an aux head
    # can hold adds a layer or fails on its own; lowering still guards the empty case.
    parsed = parse(spec("conv 1x1 8\n" + CLASSIFIER))
    empty_aux = ast.AuxStmt("a", (), (), ast.Pos(9, 1))
    with pytest.raises(NetspecError) as caught:
        lower(ast.Spec((*parsed.statements, empty_aux)), "t.ns")
    assert where(caught.value.diagnostics) == [("empty-aux", 9, 1)]


def test_an_empty_module_from_a_hand_built_spec() -> None:
    parsed = parse(spec("conv 1x1 8\n" + CLASSIFIER))
    module = ast.ModuleDef("m", (), (), ast.Pos(9, 1), ast.Pos(9, 8))
    instance = ast.InstanceStmt("m", "x", (), ast.Pos(10, 1), ast.Pos(10, 3))
    with pytest.raises(NetspecError) as caught:
        lower(ast.Spec((*parsed.statements, module, instance)), "t.ns")
    assert where(caught.value.diagnostics) == [("empty-module", 10, 3)]


def test_a_failing_body_is_not_also_called_empty() -> None:
    # Only the real problem: no "adds no layers" / "has no layers" echo of it.
    assert diagnose("module m:\n  m y\nm x\n") == [("module-recursion", 5, 3)]
    assert diagnose("conv 1x1 8\naux a:\n  head:\n    gap\n" + CLASSIFIER) == [
        ("nested-section", 6, 3)
    ]


def test_every_error_in_a_spec_is_reported_in_source_order() -> None:
    body = "conv 3x3 0\ndropout 1.5\ndefaults:\n  foo\nfoo x\n"
    assert diagnose(body) == [
        ("invalid-value", 4, 10),
        ("invalid-value", 5, 9),
        ("unknown-setting", 7, 3),
        ("unknown-module", 8, 1),
    ]


def test_a_statement_inside_repeat_fails_once() -> None:
    assert diagnose("repeat 5:\n  conv 3x3 0\n") == [("invalid-value", 5, 12)]


HUGE = "9" * 400  # an integer no float can hold


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f"dropout {HUGE}\n", [("invalid-value", 4, 9)]),
        ("dropout 1e999\n", [("invalid-value", 4, 9)]),
        (f"conv 3x3 {HUGE}\n", [("invalid-value", 4, 10)]),
        ("conv 3x3 3000000000\n", [("invalid-value", 4, 10)]),
        (f"conv 3x3/{HUGE} 8\n", [("invalid-value", 4, 10)]),
        ("bn epsilon=1e999\n", [("invalid-value", 4, 12)]),
        (f"branch: conv 1x1 3\nmerge residual scale={HUGE}\n", [("invalid-value", 5, 22)]),
        (f"repeat {HUGE}:\n  conv 1x1 8\n", [("invalid-value", 4, 8)]),
        (f"conv 1x1 8\naux a weight={HUGE}:\n  gap\n  dense classes\n", [("invalid-value", 5, 14)]),
        (
            f"train:\n  resize {HUGE}\n  seed {HUGE}\n",
            [("invalid-value", 5, 10), ("invalid-value", 6, 8)],
        ),
    ],
)
def test_numbers_too_large_for_any_size_are_invalid_values(
    body: str, expected: list[tuple[str, int, int]]
) -> None:
    assert diagnose(body + CLASSIFIER) == expected


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        (
            f"network t\ninput {HUGE}x32x3\nclasses 10\n",
            2,
            7,
            "input sizes must be at most 2,147,483,647",
        ),
        (
            f"network t\ninput 32x32x3\nclasses {HUGE}\n",
            3,
            9,
            "classes must be at most 2,147,483,647",
        ),
    ],
)
def test_header_sizes_too_large(text: str, line: int, column: int, message: str) -> None:
    (diagnostic,) = check_text(text + "conv 1x1 8\n" + CLASSIFIER).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("invalid-value", line, column)
    assert diagnostic.message == message


def test_an_input_override_out_of_range_is_reported_at_the_input_line() -> None:
    report = check_text(spec("conv 1x1 8\n" + CLASSIFIER), "t.ns", (2**40, 32, None))
    assert where(report.diagnostics) == [("invalid-value", 2, 7)]
