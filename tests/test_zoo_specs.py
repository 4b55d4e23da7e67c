"""The zoo specs check clean and reach their references' parameter counts, without TensorFlow.

tests/compiler/test_zoo.py builds each keras.applications network beside its spec; here the
figures stand as the references print them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from netspec.api import check_file

ZOO_SPECS = sorted(Path("specs/zoo").glob("*.ns"))

# keras.applications in Keras 3.15.1, weights=None, include_top=True, 1000 classes:
# model.count_params().
KERAS_APPLICATIONS = {
    "resnet50": 25_636_712,
    "resnet50v2": 25_613_800,
    "xception": 22_910_480,
    "mobilenet": 4_253_864,
    "mobilenet_v2": 3_538_984,
    "densenet121": 8_062_504,
    "vgg16": 138_357_544,
    "efficientnet_b0": 5_330_571,
    "mobilenet_v3_small": 2_554_968,
    "convnext_tiny": 28_589_128,
}

# tf_keras 2.21 (keras.applications of the TF 2.x line; Keras 3 has no RegNet),
# RegNetX002(weights=None), include_top=True, 1000 classes: model.count_params().
TF_KERAS_APPLICATIONS = {"regnetx_002": 2_705_640}

# titu1994/keras-squeeze-excite-network, se_inception_v3.py: InceptionV3 (23,851,784 in
# keras.applications) with squeeze_excite_block(ratio=16), two dense layers without bias,
# after each of mixed0 .. mixed10, whose widths these are.
INCEPTION_V3 = 23_851_784
MIXED_WIDTHS = (256, 288, 288, 768, 768, 768, 768, 768, 1280, 2048, 2048)


def test_every_zoo_spec_has_a_reference_count_here() -> None:
    counted = {
        *KERAS_APPLICATIONS,
        *TF_KERAS_APPLICATIONS,
        "se_inception_v3",
        "squeezenet1_1",
        "googlenet_torchvision",
        "resnext50_32x4d",
    }
    assert {path.stem for path in ZOO_SPECS} == counted


@pytest.mark.parametrize(
    ("name", "params"), {**KERAS_APPLICATIONS, **TF_KERAS_APPLICATIONS}.items()
)
def test_keras_application_counts(name: str, params: int) -> None:
    totals = check_file(Path("specs/zoo") / f"{name}.ns").totals
    assert totals is not None
    assert totals.params == params


def test_se_inception_v3_adds_two_c_by_c_over_16_matrices_per_module() -> None:
    totals = check_file(Path("specs/zoo/se_inception_v3.ns")).totals
    assert totals is not None
    assert totals.params == INCEPTION_V3 + sum(2 * c * (c // 16) for c in MIXED_WIDTHS)


# torchvision 0.29.1, counted in a scratch venv as sum(p.numel() for p in model.parameters()):
# squeezenet1_1() 1,235,496 (no batch norm); googlenet(aux_logits=True) 13,004,888, of which
# the aux heads 6,379,984, with 7,280 batch-norm channels in the trunk and 256 in the heads.
# Keras counts the moving mean and variance too, 2 more per channel, as non-trainable.
def test_squeezenet_counts_the_same_in_both_conventions() -> None:
    totals = check_file(Path("specs/zoo/squeezenet1_1.ns")).totals
    assert totals is not None
    assert totals.params == totals.trainable_params == 1_235_496


def test_googlenet_torchvision_in_both_conventions() -> None:
    totals = check_file(Path("specs/zoo/googlenet_torchvision.ns")).totals
    assert totals is not None
    assert totals.trainable_params == 6_624_904
    assert totals.params == 6_624_904 + 2 * 7_280
    assert totals.params_with_aux == 13_004_888 + 2 * (7_280 + 256)


# torchvision 0.29.1 resnext50_32x4d(): 25,028,904 as sum(p.numel()), with 34,112 batch-norm
# channels (64 in the stem; per bottleneck its width twice and its output, 128-128-256 ..
# 1024-1024-2048 over 3, 4, 6, 3 blocks; and the four downsamples' 256 .. 2048).
def test_resnext50_32x4d_in_both_conventions() -> None:
    totals = check_file(Path("specs/zoo/resnext50_32x4d.ns")).totals
    assert totals is not None
    assert totals.trainable_params == 25_028_904
    assert totals.params == 25_028_904 + 2 * 34_112


# torchvision's googlenet on a 1x3x82x82 input (forward hooks in the same venv): its
# ceil_mode pools give 10x10 at inception3b, 5x5 from inception4a to 4e, 3x3 at 5b.
def test_googlenet_torchvision_keeps_torchvisions_grid_at_82x82() -> None:
    report = check_file(Path("specs/zoo/googlenet_torchvision.ns"), (82, 82, None))
    assert not report.has_errors, [d.message for d in report.diagnostics]
    shapes = {layer.name: layer.output for layer in report.layers}
    assert {name: shapes[name] for name in ("inception3b", "inception4a", "inception5b")} == {
        "inception3b": (10, 10, 480),
        "inception4a": (5, 5, 512),
        "inception5b": (3, 3, 1024),
    }


# Issue 9: "a classic 2-class GoogLeNet at 82x82 (10,309,430 parameters with aux, as
# torchsummary prints it)", 5,975,602 without. This is the classic PyTorch code's GoogLeNet
# (torchvision's layout and grid, convs with bias, no batch norm, the paper's 5x5 branches)
# with torchvision's adaptive 4x4 aux heads; its torchsummary printout:
# tests/analysis/test_torchsummary.py.
def test_the_two_class_googlenet_at_82x82() -> None:
    report = check_file(Path("examples/googlenet_82x82.ns"))
    # The paper's 5x5 branches of 5a and 5b slide over a 3x3 map at this size, and check says so.
    assert [(d.code, d.message.split(":")[0]) for d in report.diagnostics] == [
        ("window-exceeds-map", "5a/b3/conv2")
    ]
    assert report.totals is not None
    assert report.totals.params == 5_975_602
    assert report.totals.params_with_aux == 10_309_430
