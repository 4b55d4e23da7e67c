"""The second edition's static numbers, computed by hand with Keras' conventions."""

from __future__ import annotations

import pytest

from netspec.ir.pools import adaptive_windows
from tests.helpers import CLASSIFIER, built, clean, header, layer, statement


def first_statement(line: str, head: str) -> tuple[tuple[int, int, int], int, int]:
    report = built(line + "\n" + CLASSIFIER, head)
    first = next(row for row in report.layers[1:] if not row.part_of)
    return statement(report, first.name)


@pytest.mark.parametrize(
    ("line", "output", "params", "macs"),
    [
        # depthwise: k*k*C*mult weights (+ C*mult biases), on a 16x16x8 input
        ("dwconv 3x3", (16, 16, 8), 9 * 8 + 8, 16 * 16 * 9 * 8),
        ("dwconv 3x3/2 mult=2", (8, 8, 16), 9 * 16 + 16, 8 * 8 * 9 * 16),
        ("dwconv 3x3 nobias", (16, 16, 8), 9 * 8, 16 * 16 * 9 * 8),
        ("dwconv 3x3 bn", (16, 16, 8), 9 * 8 + 4 * 8, 16 * 16 * 9 * 8),
        # separable: k*k*C depthwise + C*F pointwise (+ F biases)
        ("sepconv 3x3 32", (16, 16, 32), 9 * 8 + 8 * 32 + 32, 16 * 16 * (9 * 8 + 8 * 32)),
        ("sepconv 3x3 32 nobias bn", (16, 16, 32), 9 * 8 + 8 * 32 + 4 * 32, 16 * 16 * 328),
        # grouped: k*k*(C/g)*F (+ F)
        ("conv 3x3 16 groups=4", (16, 16, 16), 9 * 2 * 16 + 16, 16 * 16 * 9 * 2 * 16),
        ("pad 3", (22, 22, 8), 0, 0),
        ("pad 0,1,0,1", (17, 17, 8), 0, 0),
        ("pad 1,2,3,4", (19, 23, 8), 0, 0),
        ("relu6", (16, 16, 8), 0, 0),
        ("avgpool to 4x4", (4, 4, 8), 0, 0),
        ("maxpool to 5x3", (5, 3, 8), 0, 0),
        ("avgpool to 1x1", (1, 1, 8), 0, 0),
    ],
)
def test_new_layer_output_params_and_macs(
    line: str, output: tuple[int, int, int], params: int, macs: int
) -> None:
    assert first_statement(line, header(16, 16, 8)) == (output, params, macs)


def test_dense_options_bias_batch_norm_and_activation() -> None:
    report = clean(
        "gap\ndense 16 nobias bn relu\ndense 32 linear\ndense classes\n", header(4, 4, 8)
    )
    assert statement(report, "dense1")[1:] == (8 * 16 + 4 * 16, 8 * 16)
    assert statement(report, "dense2")[1] == 16 * 32 + 32


def test_global_max_pool_is_a_flat_vector() -> None:
    report = clean("gmp\ndense classes\n", header(7, 7, 12))
    assert (layer(report, "gmp1").output, layer(report, "gmp1").flat) == ((1, 1, 12), True)
    assert layer(report, "gmp1").receptive_field == (7, 7)


def test_adaptive_windows_are_pytorchs() -> None:
    # 10 rows to 4 cells: floor(i*10/4) .. ceil((i+1)*10/4)
    assert adaptive_windows(10, 4) == [(0, 3), (2, 5), (5, 8), (7, 10)]
    assert adaptive_windows(17, 4) == [(0, 5), (4, 9), (8, 13), (12, 17)]
    # the receptive field grows by the widest window (5 rows of 17)
    report = built("avgpool to 4x4\n" + CLASSIFIER, header(17, 17, 3))  # warns: a bottleneck
    assert layer(report, "avgpool1").receptive_field == (5, 5)


def test_merge_add_keeps_the_shape_and_mul_broadcasts_a_vector() -> None:
    body = (
        "branch: conv 1x1 8\nbranch: identity\nmerge add relu\n"
        "branch: identity\nbranch: gap -> dense 2 -> dense 8 sigmoid\nmerge mul\n"
    )
    report = clean(body + CLASSIFIER, header(6, 6, 8))
    assert statement(report, "g1/add") == ((6, 6, 8), 0, 0)
    assert layer(report, "g2/mul").output == (6, 6, 8)
    assert not layer(report, "g2/mul").flat


def test_a_shortcut_keeps_the_receptive_field_the_lints_read() -> None:
    body = "branch: identity\nbranch: conv 3x3 8 -> conv 3x3 8\nmerge add\n"
    report = clean(body + CLASSIFIER, header(32, 32, 8))
    # every path counts for the table: the two convs see 5x5
    assert layer(report, "g1/add").receptive_field == (5, 5)


def test_avgpool_to_1x1_starts_the_head_like_gap() -> None:
    # MobileNet's head: a 1x1 map, then a 1x1 conv classifier; no collapse warning
    head = "avgpool to 1x1\nconv 1x1 classes linear\nflatten\n"
    assert clean("conv 3x3/2 8\n" + head, header(8, 8, 3)).totals is not None


def test_module_parameter_defaults_fill_left_out_arguments() -> None:
    body = "module m(w, s=2, t=s):\n  conv 3x3/t w\nm a w=8\nm b w=8 s=1\n" + CLASSIFIER
    report = clean(body, header(16, 16, 3))
    assert layer(report, "a").output == (8, 8, 8)  # t takes s's default, 2
    assert layer(report, "b").output == (8, 8, 8)  # s=1 given: t follows it, no stride
