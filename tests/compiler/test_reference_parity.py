"""Shipped specs against keras.applications, built here with weights=None (no download)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras
import pytest

from compiler.build import build_models
from netspec.api import check_file, compile_file

pytestmark = [pytest.mark.keras, pytest.mark.slow]

# Spec stage name -> the Keras application's layer with the same tensor.
INCEPTION_V3_STAGES = {f"mixed{i}": f"mixed{i}" for i in range(11)}
INCEPTION_RESNET_V2_STAGES = {
    "mixed_5b": "mixed_5b",
    **{f"block35_{i}": f"block35_{i}_ac" for i in range(1, 11)},
    "mixed_6a": "mixed_6a",
    **{f"block17_{i}": f"block17_{i}_ac" for i in range(1, 21)},
    "mixed_7a": "mixed_7a",
    **{f"block8_{i}": f"block8_{i}_ac" for i in range(1, 10)},
    # Keras leaves the last block's scale-and-add unnamed; its projection has the same shape.
    "block8_10": "block8_10_conv",
    "stage8/conv1": "conv_7b_ac",
}


@pytest.mark.parametrize(
    ("spec", "application", "stages"),
    [
        ("inception_v3", keras.applications.InceptionV3, INCEPTION_V3_STAGES),
        ("inception_resnet_v2", keras.applications.InceptionResNetV2, INCEPTION_RESNET_V2_STAGES),
    ],
)
def test_spec_equals_the_keras_application(
    spec: str, application: Callable[..., keras.Model], stages: dict[str, str]
) -> None:
    path = Path("specs") / f"{spec}.ns"
    report = check_file(path)
    reference = application(weights=None)
    try:
        assert report.totals is not None
        assert report.totals.params == reference.count_params()
        ours = {layer.name: layer.output for layer in report.layers}
        for stage, keras_layer in stages.items():
            expected = tuple(reference.get_layer(keras_layer).output.shape[1:])
            assert ours[stage] == expected, stage
        compiled = build_models(compile_file(path)).inference
        assert compiled.count_params() == reference.count_params()
    finally:
        keras.backend.clear_session()
