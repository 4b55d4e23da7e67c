"""specs/googlenet.ns against the paper (Szegedy et al. 2015, Table 1) and Keras' counting."""

from __future__ import annotations

import pytest

from netspec.analysis.report import Report
from netspec.api import check_file
from netspec.render import compact_rows
from tests.helpers import CIFAR_TRIMMED, GOOGLENET, layer


@pytest.fixture(scope="module")
def googlenet() -> Report:
    return check_file(GOOGLENET)


def test_googlenet_checks_clean(googlenet: Report) -> None:
    assert googlenet.diagnostics == ()
    assert (googlenet.network, googlenet.input, googlenet.classes) == (
        "googlenet",
        (224, 224, 3),
        1000,
    )


def test_googlenet_parameters(googlenet: Report) -> None:
    assert googlenet.totals.params == 6_998_552
    assert googlenet.totals.params_with_aux == 13_378_280


def test_googlenet_multiply_adds(googlenet: Report) -> None:
    assert googlenet.totals.macs == 1_582_671_872  # ~1.58 G, the paper's "1.5 billion"
    assert googlenet.totals.flops == 2 * 1_582_671_872


def test_googlenet_is_7x7x1024_before_the_global_pool(googlenet: Report) -> None:
    assert layer(googlenet, "5b").output == (7, 7, 1024)
    assert layer(googlenet, "head/gap1").output == (1, 1, 1024)
    assert layer(googlenet, "head/dense1").output == (1, 1, 1000)


@pytest.mark.parametrize(
    ("name", "output", "params"),
    [
        ("stem/conv1", (112, 112, 64), 7 * 7 * 3 * 64 + 64),
        ("stem/maxpool1", (56, 56, 64), 0),
        ("stem/conv3", (56, 56, 192), 3 * 3 * 64 * 192 + 192),
        ("stem/maxpool2", (28, 28, 192), 0),
        ("stage3/maxpool1", (14, 14, 480), 0),
        ("stage4/maxpool1", (7, 7, 832), 0),
        ("aux1/avgpool1", (4, 4, 512), 0),
        ("aux1/conv1", (4, 4, 128), 512 * 128 + 128),
        ("aux2/conv1", (4, 4, 128), 528 * 128 + 128),
        ("aux1/dense1", (1, 1, 1024), 2048 * 1024 + 1024),
    ],
)
def test_googlenet_table_1_rows(
    googlenet: Report, name: str, output: tuple[int, int, int], params: int
) -> None:
    row = layer(googlenet, name)
    assert (row.output, row.params) == (output, params)


def _inception(inputs: int, b1: int, r3: int, b3: int, r5: int, b5: int, pool: int) -> int:
    """Table 1's columns: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj (+ biases)."""
    weights = inputs * (b1 + r3 + r5 + pool) + 9 * r3 * b3 + 25 * r5 * b5
    return weights + b1 + r3 + b3 + r5 + b5 + pool


@pytest.mark.parametrize(
    ("name", "output", "params"),
    [
        ("3a", (28, 28, 256), _inception(192, 64, 96, 128, 16, 32, 32)),
        ("3b", (28, 28, 480), _inception(256, 128, 128, 192, 32, 96, 64)),
        ("4a", (14, 14, 512), _inception(480, 192, 96, 208, 16, 48, 64)),
        ("4e", (14, 14, 832), _inception(528, 256, 160, 320, 32, 128, 128)),
        ("5b", (7, 7, 1024), _inception(832, 384, 192, 384, 48, 128, 128)),
    ],
)
def test_googlenet_instance_rows_hold_their_branches(
    googlenet: Report, name: str, output: tuple[int, int, int], params: int
) -> None:
    """The summary row of an instance: its module's word, its output, all its parameters."""
    row = next(row for row in compact_rows(googlenet) if row.name == name)
    assert (row.kind, row.layer.output, row.params, row.count) == ("inception", output, params, 8)


def test_googlenet_aux_heads_tap_4a_and_4d(googlenet: Report) -> None:
    assert [(h.name, h.weight, h.tap, h.line) for h in googlenet.aux_heads] == [
        ("aux1", 0.3, "4a", 30),
        ("aux2", 0.3, "4d", 40),
    ]
    aux = [row for row in googlenet.layers if row.aux]
    assert sum(row.params for row in aux) == googlenet.totals.aux_params == 6_379_728


def test_googlenet_receptive_field_before_the_head(googlenet: Report) -> None:
    fields = {row.name: (row.receptive_field, row.jump) for row in googlenet.layers}
    assert fields["stem/conv1"] == ((7, 7), (2, 2))
    assert fields["stem/maxpool1"] == ((11, 11), (4, 4))
    assert fields["stage4/maxpool1"][1] == (32, 32)
    assert fields["5b"] == ((715, 715), (32, 32))


def test_cifar_trimmed_checks_clean_at_32x32() -> None:
    report = check_file(CIFAR_TRIMMED)
    assert report.diagnostics == ()
    assert layer(report, "3b").output == (32, 32, 480)
    assert layer(report, "4e").output == (16, 16, 832)
    assert layer(report, "5b").output == (8, 8, 1024)
    assert report.totals.params == 6_410_916
