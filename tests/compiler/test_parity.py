"""The static analysis and the Keras model agree on every shape and parameter count."""

from __future__ import annotations

import typing
from pathlib import Path

import keras
import pytest

from compiler.build import build_layer, build_models
from netspec.analysis.report import Report
from netspec.api import check_file, check_text, compile_file, compile_text
from netspec.ir import Layer, Network, keras_name
from tests.conftest import ROOT, SHIPPED_SPECS
from tests.helpers import EVERY_KIND, SMALL_HEADER

pytestmark = pytest.mark.keras

# Keras builds a network of this many layers in 2 s or more on 2 cores: those specs'
# parity is `slow`, left to CI, so the fast loop stays under a minute.
MANY_LAYERS = 300


def shipped_specs_by_build_cost() -> list[object]:
    return [
        pytest.param(
            spec,
            id=str(spec.relative_to(ROOT / "specs")),
            marks=[pytest.mark.slow] if len(check_file(spec).layers) > MANY_LAYERS else [],
        )
        for spec in SHIPPED_SPECS
    ]


def test_every_ir_layer_kind_has_a_keras_builder() -> None:
    kinds = set(typing.get_args(typing.get_args(Layer)[0]))
    # Registered for the class or a base it shares (`dense` and `pointwise` are projections).
    unbuilt = build_layer.dispatch(object)
    assert {kind for kind in kinds if build_layer.dispatch(kind) is unbuilt} == set()


def assert_keras_agrees(report: Report, network: Network) -> None:
    """Totals, non-trainable count, every node's output shape and parameters, and no Keras
    layer that `check` does not list."""
    assert report.totals is not None, report.diagnostics
    models = build_models(network)
    try:
        assert models.inference.count_params() == report.totals.params
        assert models.training.count_params() == report.totals.params_with_aux
        frozen = sum(int(w.numpy().size) for w in models.inference.non_trainable_weights)
        assert frozen == report.totals.non_trainable_params
        assert sorted(built.name for built in models.training.layers) == sorted(
            keras_name(layer.name) for layer in report.layers
        )
        for layer in report.layers:
            expected = (None, layer.output[2]) if layer.flat else (None, *layer.output)
            built = models.training.get_layer(keras_name(layer.name))
            assert tuple(built.output.shape) == expected, layer.name
            assert built.count_params() == layer.params, layer.name
    finally:
        keras.backend.clear_session()


@pytest.mark.parametrize("shipped_spec", shipped_specs_by_build_cost())
def test_keras_agrees_with_check_on_every_shipped_spec(shipped_spec: Path) -> None:
    assert_keras_agrees(check_file(shipped_spec), compile_file(shipped_spec))


def test_keras_agrees_with_check_on_every_layer_kind() -> None:
    text = SMALL_HEADER + EVERY_KIND
    assert_keras_agrees(check_text(text, "t.ns"), compile_text(text, "t.ns"))


def test_googlenet_in_keras_has_the_papers_parameter_counts() -> None:
    models = build_models(compile_file(Path("specs/googlenet.ns")))
    assert models.inference.count_params() == 6_998_552
    assert models.training.count_params() == 13_378_280
    assert models.aux_weights == (0.3, 0.3)
    assert [tuple(o.shape) for o in models.training.outputs] == [(None, 1000)] * 3
    keras.backend.clear_session()
