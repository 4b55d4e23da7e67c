"""The static analysis and the Keras model agree on every shape and parameter count."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest

from compiler.build import BUILDERS, build_models, keras_name
from netspec.analysis.rules import RULES
from netspec.api import check_file, compile_file
from netspec.ir import LAYER_KINDS

pytestmark = pytest.mark.keras


def test_every_layer_kind_has_a_shape_rule_and_a_keras_builder() -> None:
    assert set(RULES) == set(LAYER_KINDS)
    assert set(BUILDERS) | {"input"} == set(LAYER_KINDS)


def test_keras_agrees_with_check_on_every_shipped_spec(shipped_spec: Path) -> None:
    report = check_file(shipped_spec)
    assert report.totals is not None, report.diagnostics
    models = build_models(compile_file(shipped_spec))
    try:
        assert models.inference.count_params() == report.totals.params
        assert models.training.count_params() == report.totals.params_with_aux
        frozen = sum(int(w.numpy().size) for w in models.inference.non_trainable_weights)
        assert frozen == report.totals.non_trainable_params
        for layer in report.layers:
            expected = (None, layer.output[2]) if layer.flat else (None, *layer.output)
            actual = tuple(models.training.get_layer(keras_name(layer.name)).output.shape)
            assert actual == expected, layer.name
    finally:
        keras.backend.clear_session()


def test_googlenet_in_keras_has_the_papers_parameter_counts() -> None:
    models = build_models(compile_file(Path("specs/googlenet.ns")))
    assert models.inference.count_params() == 6_998_552
    assert models.training.count_params() == 13_378_280
    assert models.aux_weights == (0.3, 0.3)
    assert [tuple(o.shape) for o in models.training.outputs] == [(None, 1000)] * 3
    keras.backend.clear_session()
