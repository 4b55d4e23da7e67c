"""The third edition's words and arithmetic, with the numbers computed by hand with Keras'
conventions (design/language.md, "Third edition, continued")."""

from __future__ import annotations

import pytest

from netspec.ir import Dropout, LayerNorm, LayerScale, Normalize, Rescale
from tests.helpers import (
    CLASSIFIER,
    built,
    check,
    clean,
    compile_spec,
    header,
    layer,
    only_diagnostic,
    spec,
    statement,
)


def first_statement(line: str, head: str) -> tuple[tuple[int, int, int], int, int]:
    report = built(line + "\n" + CLASSIFIER, head)
    first = next(row for row in report.layers[1:] if not row.part_of)
    return statement(report, first.name)


@pytest.mark.parametrize(
    ("line", "output", "params", "macs"),
    [
        # on a 16x16x8 input; none but pointwise counts multiply-adds, as batch norm counts none
        ("rescale 1/255", (16, 16, 8), 0, 0),
        ("rescale 1/127.5 offset=-1", (16, 16, 8), 0, 0),
        # a mean and a variance per channel, and a count
        ("normalize", (16, 16, 8), 2 * 8 + 1, 0),
        # constants, one for every channel or one per channel: no weights
        ("normalize mean=0.5 variance=4", (16, 16, 8), 0, 0),
        ("normalize mean=1,2,3,4,5,6,7,8 variance=2", (16, 16, 8), 0, 0),
        # gamma and beta per channel
        ("layernorm", (16, 16, 8), 2 * 8, 0),
        ("layernorm eps=1e-6", (16, 16, 8), 2 * 8, 0),
        # C*F weights (+ F biases), H*W*C*F multiply-adds
        ("pointwise 32 gelu", (16, 16, 32), 8 * 32 + 32, 16 * 16 * 8 * 32),
        ("pointwise 32 nobias", (16, 16, 32), 8 * 32, 16 * 16 * 8 * 32),
        ("pointwise 32 bn", (16, 16, 32), 8 * 32 + 4 * 32, 16 * 16 * 8 * 32),
        # one gamma per channel
        ("layerscale 1e-6", (16, 16, 8), 8, 0),
        ("dropout 0.2 per_sample", (16, 16, 8), 0, 0),
    ],
)
def test_new_word_output_params_and_macs(
    line: str, output: tuple[int, int, int], params: int, macs: int
) -> None:
    assert first_statement(line, header(16, 16, 8)) == (output, params, macs)


def test_normalize_trains_none_of_its_weights_and_layernorm_all() -> None:
    report = clean("normalize\nlayernorm\n" + CLASSIFIER, header(4, 4, 6))
    assert report.totals is not None
    assert report.totals.params == (2 * 6 + 1) + 2 * 6 + (6 * 10 + 10)
    assert report.totals.non_trainable_params == 2 * 6 + 1


def test_each_word_carries_what_its_line_says() -> None:
    body = (
        "rescale 1/127.5 offset=-1\nlayernorm eps=1e-6\nlayerscale 1e-6\ndropout 0.2 per_sample\n"
    )
    nodes = compile_spec(body + "dropout 0.1\n" + CLASSIFIER).layers[1:6]
    rescale, norm, scale, per_sample, element_wise = nodes
    assert isinstance(rescale, Rescale) and (rescale.scale, rescale.offset) == (1 / 127.5, -1)
    assert isinstance(norm, LayerNorm) and norm.epsilon == 1e-6
    assert isinstance(scale, LayerScale) and scale.initial == 1e-6
    assert isinstance(per_sample, Dropout) and per_sample.per_sample
    assert isinstance(element_wise, Dropout) and not element_wise.per_sample


def test_normalize_by_constants_carries_them_and_alone_carries_none() -> None:
    # A variance of 0 builds: Keras divides by the larger of its square root and 1e-7.
    body = "normalize mean=123.675,116.28,103.53 variance=3409.976,3262.694,0\nnormalize\n"
    constant, adapted = compile_spec(body + CLASSIFIER).layers[1:3]
    assert isinstance(constant, Normalize) and isinstance(adapted, Normalize)
    assert constant.mean == (123.675, 116.28, 103.53)
    assert constant.variance == (3409.976, 3262.694, 0.0)
    assert (adapted.mean, adapted.variance) == (None, None)


def test_normalize_constants_count_neither_weights_nor_frozen_ones() -> None:
    report = clean("normalize mean=0.5 variance=1,2,3,4,5,6\n" + CLASSIFIER, header(4, 4, 6))
    assert report.totals is not None
    assert report.totals.params == 6 * 10 + 10
    assert report.totals.non_trainable_params == 0


@pytest.mark.parametrize(
    ("line", "code", "column", "says"),
    [
        # neither one number nor one per channel (the input has 3): at the statement
        ("normalize mean=1,2 variance=1", "normalize-mismatch", 1, "mean= gives 2 numbers for 3"),
        ("normalize mean=1 variance=1,2,3,4", "normalize-mismatch", 1, "variance= gives 4"),
        # Keras takes both or neither
        ("normalize mean=1,2,3", "invalid-value", 1, "variance= is missing"),
        ("normalize variance=1", "invalid-value", 1, "mean= is missing"),
        # at the negative number itself
        ("normalize mean=0 variance=1,-2,3", "invalid-value", 29, "a variance must be >= 0"),
        ("normalize mean variance=1", "invalid-value", 11, "mean takes numbers"),
        ("normalize eps=1", "unknown-option", 11, "unknown option 'eps' for normalize"),
    ],
)
def test_normalize_constants_that_cannot_build_are_named_where_written(
    line: str, code: str, column: int, says: str
) -> None:
    found = only_diagnostic(spec(line + "\n" + CLASSIFIER))
    assert (found.code, found.line, found.column) == (code, 4, column)
    assert says in found.message


def test_layernorm_keeps_keras_epsilon_unless_told() -> None:
    norm = compile_spec("layernorm\n" + CLASSIFIER).layers[1]
    assert isinstance(norm, LayerNorm) and norm.epsilon == 1e-3


def test_pointwise_follows_defaults_dense() -> None:
    report = clean("defaults:\n  dense bn\npointwise 16\n" + CLASSIFIER, header(4, 4, 8))
    assert [row.kind for row in report.layers[1:4]] == ["pointwise", "bn", "activation"]
    assert statement(report, "pointwise1")[1] == 8 * 16 + 4 * 16  # bn drops the bias


def test_dense_on_a_map_stays_an_error_and_pointwise_needs_a_map() -> None:
    assert only_diagnostic(spec("dense 8\n" + CLASSIFIER)).code == "dense-needs-flat"
    assert only_diagnostic(spec("gap\npointwise 8\ndense classes\n")).code == "needs-feature-map"


MBCONV = """\
module se(c, r):
  branch: identity
  branch: gap -> dense r relu -> dense c sigmoid
  merge mul

module mbconv(c_in, c_out, e, k, s=1):
  conv 1x1 (c_in*e) swish bn
  dwconv (k)x(k)/s swish bn
  se squeeze c=(c_in*e) r=(c_in//4)
  conv 1x1 c_out linear bn
  dropout 0.2 per_sample

conv 3x3 16
mbconv b1 c_in=16 c_out=24 e=6 k=5 s=2
"""


def test_arithmetic_in_arguments_kernel_sides_and_strides() -> None:
    report = clean(MBCONV + CLASSIFIER, header(32, 32, 3))
    assert layer(report, "b1/conv1").output == (32, 32, 16 * 6)
    dwconv = layer(report, "b1/dwconv1")
    assert dwconv.output == (16, 16, 96)
    assert statement(report, "b1/dwconv1")[1] == 5 * 5 * 96 + 4 * 96  # a 5x5 window
    assert layer(report, "b1/squeeze/b2/dense1").output[2] == 16 // 4
    assert layer(report, "b1/squeeze/b2/dense2").output[2] == 96
    assert layer(report, "b1").output == (16, 16, 24)


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("w*4", 32),
        ("(w*4)", 32),
        ("2*w*3", 48),
        ("(2+3*w)", 26),
        ("((2+3)*w)", 40),
        ("(w//3)", 2),
        ("(w-3-2)", 3),
        ("(w-(3-2))", 7),
        ("(w*0.5)", 4),  # a whole number, though computed from a fraction
    ],
)
def test_expressions_follow_the_usual_precedence(written: str, value: int) -> None:
    report = clean(f"module m(w):\n  conv 1x1 {written}\nm a w=8\n" + CLASSIFIER)
    assert layer(report, "a").output[2] == value


def test_a_repeat_count_and_a_default_may_be_computed() -> None:
    body = "module m(n, w=(n*2)):\n  repeat (n-1):\n    conv 1x1 w\nm a n=3\n" + CLASSIFIER
    report = clean(body)
    assert [row.output[2] for row in report.layers if row.kind == "conv"] == [6, 6]


def test_an_expression_that_is_not_a_width_names_itself_and_its_value() -> None:
    text = spec("module m(w):\n  conv 1x1 (w-w)\nm a w=8\n" + CLASSIFIER)
    diagnostic = only_diagnostic(text)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("invalid-value", 5, 12)
    assert diagnostic.message == "conv filters must be a whole number >= 1, but `w-w` is 0"


@pytest.mark.parametrize(
    ("line", "column", "message"),
    [
        ("conv (k)x(k) 8", 9, "a kernel side must be a whole number >= 1, not 0"),
        ("conv (3)x(3)/(k) 8", 17, "a stride must be a whole number >= 1, not 0"),
        ("conv 1x1 w*0.3", 12, "conv filters must be a whole number >= 1, but `w*0.3` is 2.4"),
        ("conv 1x1 (w//k)", 12, "`w//k` divides by zero"),
        ("dropout (w-7)", 11, "a dropout rate must be in [0, 1), but `w-7` is 1"),
        ("rescale 1/(w-w)", 11, "`1/(w-w)` divides by zero"),
        ("layerscale (k)", 15, "a layer scale's initial value must be > 0, not 0"),
        ("pad (w-9)", 7, "a pad must be a whole number >= 0, but `w-9` is -1"),
        ("maxpool to (k)x(4)", 15, "a grid side must be a whole number >= 1, not 0"),
        ("repeat (k):\n    conv 1x1 8", 11, "a repeat count must be a whole number >= 1, not 0"),
    ],
)
def test_a_value_that_cannot_stand_is_an_invalid_value(
    line: str, column: int, message: str
) -> None:
    text = spec(f"module m(w, k=0):\n  {line}\nm a w=8\n" + CLASSIFIER)
    diagnostic = only_diagnostic(text)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("invalid-value", 5, column)
    assert diagnostic.message == message


def test_an_unknown_name_in_an_expression_is_an_unknown_parameter() -> None:
    report = check("module m(w):\n  conv 1x1 (w*x)\nm a w=8\n" + CLASSIFIER)
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [
        ("unknown-parameter", 5, 15)
    ]
