"""Every shipped spec checks clean and reproduces the figures its header cites."""

from __future__ import annotations

from pathlib import Path

import pytest

from netspec.api import check_file
from netspec.diagnostics import Severity

EXPECTED_PARAMS = {
    "googlenet": 6_998_552,
    "googlenet_bn": 11_305_256,
    "inception_v4": 42_742_984,
    "inception_v3": 23_851_784,
    "inception_resnet_v2": 55_873_736,
    "inception_resnet_v1": 24_371_384,
}

STAGE_SHAPES = {
    "inception_v3": {
        "mixed0": (35, 35, 256), "mixed1": (35, 35, 288), "mixed2": (35, 35, 288),
        "mixed3": (17, 17, 768), "mixed7": (17, 17, 768), "mixed8": (8, 8, 1280),
        "mixed9": (8, 8, 2048), "mixed10": (8, 8, 2048),
    },
    "inception_resnet_v2": {
        "mixed_5b": (35, 35, 320), "block35_10": (35, 35, 320), "mixed_6a": (17, 17, 1088),
        "block17_20": (17, 17, 1088), "mixed_7a": (8, 8, 2080), "block8_10": (8, 8, 2080),
    },
    "inception_resnet_v1": {
        "block35_5": (35, 35, 256), "mixed_6a": (17, 17, 896), "block17_10": (17, 17, 896),
        "mixed_7a": (8, 8, 1792), "block8_6": (8, 8, 1792),
    },
    "googlenet": {"5b": (7, 7, 1024)},
    "inception_v4": {"mixed_3a": (73, 73, 160), "mixed_4a": (71, 71, 192),
                     "mixed_5a": (35, 35, 384), "inception_a_4": (35, 35, 384),
                     "reduction_a": (17, 17, 1024), "inception_b_7": (17, 17, 1024),
                     "reduction_b": (8, 8, 1536), "inception_c_3": (8, 8, 1536)},
    "googlenet_bn": {"3b": (28, 28, 320), "3c": (14, 14, 576), "4c": (14, 14, 608),
                     "4e": (7, 7, 1056), "5b": (7, 7, 1024)},
    "cifar_trimmed": {"3b": (32, 32, 480), "4e": (16, 16, 832), "5b": (8, 8, 1024)},
}  # fmt: skip


def test_every_shipped_spec_checks_without_errors_or_warnings(shipped_spec: Path) -> None:
    report = check_file(shipped_spec)
    # Notes are the Inception papers' advice to networks outside the family, not faults.
    faults = [d for d in report.diagnostics if d.severity is not Severity.note]
    assert faults == [], [d.message for d in faults]


@pytest.mark.parametrize(("name", "params"), EXPECTED_PARAMS.items())
def test_reference_parameter_counts(name: str, params: int) -> None:
    report = check_file(Path("specs") / f"{name}.ns")
    assert report.totals is not None
    assert report.totals.params == params


def test_inception_v4_trainable_parameters_match_the_reference_port() -> None:
    # timm's inception_v4 (Cadene's port, 1000 classes): batch norm's moving statistics,
    # which Keras counts as parameters, are not among PyTorch's parameters.
    totals = check_file(Path("specs/inception_v4.ns")).totals
    assert totals is not None
    assert totals.trainable_params == 42_679_816
    assert round(totals.macs / 1e9, 1) == 12.3


def test_inception_resnet_v1_trunk_matches_facenet() -> None:
    # FaceNet's Keras ports of the reference implementation print 22,808,144 parameters
    # (22,779,312 trainable): this trunk plus a 128-d embedding head of a dense layer
    # without bias and a batch norm without gamma (beta trainable; mean, variance not).
    report = check_file(Path("specs/inception_resnet_v1.ns"))
    names = [layer.name for layer in report.layers]
    trunk = report.layers[: names.index("block8_6") + 1]
    embedding = 1792 * 128
    assert sum(layer.params for layer in trunk) + embedding + 3 * 128 == 22_808_144
    assert report.totals is not None
    non_trainable = report.totals.params - report.totals.trainable_params
    assert 22_808_144 - (non_trainable + 2 * 128) == 22_779_312


@pytest.mark.parametrize(("name", "stages"), STAGE_SHAPES.items())
def test_named_stage_shapes(name: str, stages: dict[str, tuple[int, int, int]]) -> None:
    layers = {layer.name: layer.output for layer in check_file(Path("specs") / f"{name}.ns").layers}
    assert {stage: layers[stage] for stage in stages} == stages


EXAMPLES = sorted(Path("examples/cifar100").glob("*.ns"))


def line_of(path: Path, text: str, after: str = "") -> int:
    lines = path.read_text().split("\n")
    start = lines.index(after) if after else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if line.strip() == text)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.stem for e in EXAMPLES])
def test_cifar100_examples_build(example: Path) -> None:
    report = check_file(example)
    assert not report.has_errors, [d.message for d in report.diagnostics]
    assert report.classes == 100


def test_the_naive_googlenet_collapses_at_the_pool_before_stage_5() -> None:
    path = Path("examples/cifar100/naive_googlenet.ns")
    collapse = [d for d in check_file(path).diagnostics if d.code == "collapse"]
    pool_line = line_of(path, "maxpool 3x3/2", after="  inception 4e 256/160-320/32-128/128")
    assert [(d.line, d.column) for d in collapse] == [(pool_line, 3)]


@pytest.mark.parametrize("name", ["stride1", "upscaled_224"])
def test_keeping_the_grid_checks_clean(name: str) -> None:
    assert check_file(Path("examples/cifar100") / f"{name}.ns").diagnostics == ()


@pytest.mark.parametrize(
    "name", ["stem_stride1", "stem_no_pool", "minus_one_group", "minus_two_groups"]
)
def test_partial_fixes_avoid_the_collapse_but_still_warn(name: str) -> None:
    codes = {d.code for d in check_file(Path("examples/cifar100") / f"{name}.ns").diagnostics}
    assert "collapse" not in codes
    assert "window-exceeds-map" in codes


def test_an_instance_row_points_at_the_line_that_wrote_it() -> None:
    path = Path("specs/googlenet_bn.ns")
    layers = {layer.name: layer for layer in check_file(path).layers}
    lines = path.read_text().split("\n")
    written = next(i for i, line in enumerate(lines, 1) if line.strip().startswith("reduce 3c"))
    assert (layers["3c"].line, layers["3c"].column) == (written, 3)
