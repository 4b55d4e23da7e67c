"""The registry of layer words in Keras: every word builds, every activation word builds
the Keras activation its entry names and runs, and a head built from `defaults: dense bn`
outputs logits."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from compiler.build import build_layer, build_models
from netspec.api import compile_text
from netspec.lowering.words import ACTIVATION_WORDS, LAYER_WORDS, Word
from tests.helpers import SMALL_HEADER

pytestmark = pytest.mark.keras


@pytest.mark.parametrize("entry", LAYER_WORDS.values(), ids=list(LAYER_WORDS))
def test_every_word_has_a_keras_builder(entry: Word) -> None:
    for kind in filter(None, (entry.layer, entry.adaptive)):
        assert build_layer.dispatch(kind) is not build_layer.dispatch(object)


@pytest.mark.parametrize("entry", ACTIVATION_WORDS, ids=[entry.word for entry in ACTIVATION_WORDS])
def test_every_activation_word_builds_its_keras_activation_and_runs(entry: Word) -> None:
    # As a conv's option (inside the Keras layer) and as a layer of its own.
    body = f"conv 1x1 4 {entry.word}\n{entry.word}\ngap\ndense classes\n"
    model = build_models(compile_text(SMALL_HEADER + body)).inference
    expected = keras.activations.get(entry.keras)
    assert model.get_layer("conv1").activation is expected
    assert model.get_layer(f"{entry.word}1").activation is expected
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    scores = np.asarray(model(x))
    assert scores.shape == (2, 3) and np.isfinite(scores).all()


def test_defaults_dense_bn_builds_a_classifier_that_outputs_logits() -> None:
    body = "defaults:\n  dense bn\ngap\ndense 16\ndense classes\n"
    keras.utils.set_random_seed(0)
    model = build_models(compile_text(SMALL_HEADER + body)).inference
    dense, norm = model.get_layer("dense2_dense"), model.get_layer("dense2")
    assert dense.activation is keras.activations.linear
    assert isinstance(norm, keras.layers.BatchNormalization) and model.layers[-1] is norm
    x = np.random.default_rng(0).normal(size=(8, 8, 8, 4)).astype("float32")
    assert (np.asarray(model(x)) < 0).any()  # no relu after the batch norm
