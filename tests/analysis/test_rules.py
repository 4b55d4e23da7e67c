"""Static numbers per layer kind, computed by hand on small snippets (Keras conventions)."""

from __future__ import annotations

import typing

import pytest

from netspec.ir import Layer, LayerBase
from tests.helpers import CLASSIFIER, built, check, clean, header, layer, statement


def only_layer(line: str, head: str = header()) -> tuple[tuple[int, int, int], int, int]:
    """(output, params, MACs) of the first statement of `line` on the header's input."""
    report = built(line + "\n" + CLASSIFIER, head)
    first = next(row for row in report.layers[1:] if not row.part_of)
    return statement(report, first.name)


@pytest.mark.parametrize(
    ("line", "output", "params", "macs"),
    [
        # same padding: ceil(32 / 2) = 16; weights 7*7*3*64 = 9408, plus 64 biases
        ("conv 7x7/2 64", (16, 16, 64), 9408 + 64, 16 * 16 * 9408),
        # valid padding: (32 - 3) // 2 + 1 = 15
        ("conv 3x3/2 384 valid", (15, 15, 384), 3 * 3 * 3 * 384 + 384, 15 * 15 * 3 * 3 * 3 * 384),
        ("conv 1x7 128", (32, 32, 128), 1 * 7 * 3 * 128 + 128, 32 * 32 * 7 * 3 * 128),
        ("conv 3x3 16 nobias", (32, 32, 16), 432, 32 * 32 * 432),
        # batch norm follows: no bias; gamma, beta, moving mean and variance
        ("conv 3x3 16 bn", (32, 32, 16), 432 + 4 * 16, 32 * 32 * 432),
        ("conv 3x3 16 bn bias", (32, 32, 16), 432 + 16 + 4 * 16, 32 * 32 * 432),
        ("conv 5x5/3 4 valid", (10, 10, 4), 5 * 5 * 3 * 4 + 4, 10 * 10 * 5 * 5 * 3 * 4),
        ("conv 3x3/2 4", (16, 16, 4), 3 * 3 * 3 * 4 + 4, 16 * 16 * 3 * 3 * 3 * 4),
        ("maxpool 3x3/2", (16, 16, 3), 0, 0),
        ("maxpool 3x3/2 valid", (15, 15, 3), 0, 0),
        ("maxpool 2x2", (16, 16, 3), 0, 0),  # without /S the stride is the window
        ("avgpool 5x5/3 valid", (10, 10, 3), 0, 0),
        ("avgpool 3x3/1", (32, 32, 3), 0, 0),
        ("bn", (32, 32, 3), 4 * 3, 0),
        ("bn scale=false", (32, 32, 3), 3 * 3, 0),
        ("bn scale=false center=false", (32, 32, 3), 2 * 3, 0),
        ("lrn", (32, 32, 3), 0, 0),
        ("dropout 0.4", (32, 32, 3), 0, 0),
    ],
)
def test_layer_output_params_and_macs(
    line: str, output: tuple[int, int, int], params: int, macs: int
) -> None:
    assert only_layer(line) == (output, params, macs)


def test_odd_sizes_round_up_with_same_and_down_with_valid() -> None:
    odd = header(35, 35, 8)
    assert only_layer("conv 3x3/2 8", odd)[0] == (18, 18, 8)
    assert only_layer("conv 3x3/2 8 valid", odd)[0] == (17, 17, 8)
    assert only_layer("maxpool 3x3/2 valid", header(17, 9, 8))[0] == (8, 4, 8)


def test_gap_flatten_and_dense() -> None:
    report = clean("conv 1x1 8\nflatten\ndense 1024\ndense classes\n")
    assert layer(report, "flatten1").output == (1, 1, 32 * 32 * 8)
    assert (layer(report, "dense1").params, layer(report, "dense1").macs) == (
        8192 * 1024 + 1024,
        8192 * 1024,
    )
    assert layer(report, "dense2").params == 1024 * 10 + 10
    gap = clean("conv 1x1 64\ngap\ndense 1024\ndense classes\n")
    assert layer(gap, "gap1").output == (1, 1, 64)
    assert layer(gap, "dense1").params == 64 * 1024 + 1024


def test_bn_defaults_change_standalone_batch_norm_params() -> None:
    report = clean("defaults:\n  bn scale=false\nconv 1x1 16\nbn\n" + CLASSIFIER)
    assert layer(report, "bn1").params == 3 * 16


def test_receptive_field_size_and_jump_through_a_conv_pool_chain() -> None:
    report = clean("conv 3x3 8\nmaxpool 3x3/2\nconv 3x3 8\nconv 3x3/2 8\nconv 3x3 8\n" + CLASSIFIER)
    fields = [(row.name, row.receptive_field, row.jump) for row in report.layers]
    assert fields == [
        ("input", (1, 1), (1, 1)),
        ("conv1", (3, 3), (1, 1)),
        ("maxpool1", (5, 5), (2, 2)),  # 3 + (3-1)*1
        ("conv2", (9, 9), (2, 2)),  # 5 + (3-1)*2
        ("conv3", (13, 13), (4, 4)),  # 9 + (3-1)*2
        ("conv4", (21, 21), (4, 4)),  # 13 + (3-1)*4
        ("gap1", (49, 49), (4, 4)),  # the whole 8x8 map: 21 + (8-1)*4
        ("dense1", (49, 49), (4, 4)),
    ]


def test_receptive_field_of_asymmetric_kernels() -> None:
    report = built("conv 1x7 8\nconv 7x1/2 8\n" + CLASSIFIER)  # warns: factorized on 32x32
    assert layer(report, "conv1").receptive_field == (1, 7)
    assert (layer(report, "conv2").receptive_field, layer(report, "conv2").jump) == (
        (7, 7),
        (2, 2),  # one stride for both axes
    )


def test_a_group_takes_the_widest_receptive_field_of_its_branches() -> None:
    body = "branch: conv 1x1 8\nbranch: conv 5x5 8\nbranch: maxpool 3x3/2 -> conv 3x3/2 8\n"
    report = check(body)  # the third branch is on another grid: concat-mismatch
    assert layer(report, "g1/b2/conv1").receptive_field == (5, 5)
    assert layer(report, "g1/b3/conv1").receptive_field == (7, 7)
    reduction = clean("branch: maxpool 3x3/2\nbranch: conv 3x3/2 8\n" + CLASSIFIER)
    assert (layer(reduction, "g1/concat").receptive_field, layer(reduction, "g1/concat").jump) == (
        (3, 3),
        (2, 2),
    )
    widest = clean("branch: conv 1x1 8\nbranch: conv 5x5 8\n" + CLASSIFIER)
    assert layer(widest, "g1/concat").receptive_field == (5, 5)
    assert layer(widest, "g1/concat").output == (32, 32, 16)


def test_concat_sums_channels_and_residual_keeps_the_input_width() -> None:
    body = "branch: conv 1x1 32\nbranch: conv 1x1 48\nmerge residual scale=0.1\n"
    merge = statement(clean(body + CLASSIFIER, header(8, 8, 64)), "g1/residual")
    # the 1x1 projection of 32+48 channels back to 64, with bias; its MACs on the 8x8 grid
    assert merge == ((8, 8, 64), 80 * 64 + 64, 64 * 80 * 64)


def test_totals_add_up_the_layers() -> None:
    report = clean("conv 3x3 8\nmaxpool 2x2\nconv 3x3 16 bn\n" + CLASSIFIER)
    conv1 = 3 * 3 * 3 * 8 + 8
    conv2 = 3 * 3 * 8 * 16 + 4 * 16
    dense = 16 * 10 + 10
    assert report.totals.params == conv1 + conv2 + dense
    assert report.totals.macs == 32 * 32 * 216 + 16 * 16 * 1152 + 160
    assert report.totals.flops == 2 * report.totals.macs
    assert report.totals.aux_params == 0


def test_every_ir_layer_kind_has_its_own_static_rule() -> None:
    kinds = typing.get_args(typing.get_args(Layer)[0])
    assert len(kinds) > 20
    without_rule = [kind.__name__ for kind in kinds if kind.facts is LayerBase.facts]
    assert without_rule == []
    assert len({kind.model_fields["kind"].default for kind in kinds}) == len(kinds)
