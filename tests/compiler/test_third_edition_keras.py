"""The third edition's words in Keras: what each computes, in training and inference."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from compiler.build import build_models, save_inference_model
from compiler.layers import LayerScale
from netspec.api import compile_text
from tests.helpers import SMALL_HEADER

pytestmark = pytest.mark.keras

HEAD = "gap\ndense classes\n"


def built_layer(body: str, name: str) -> keras.Model:
    """A model from the input to the layer `name`."""
    model = build_models(compile_text(SMALL_HEADER + body + HEAD)).inference
    return keras.Model(model.input, model.get_layer(name).output)


def test_per_sample_dropout_drops_whole_examples_and_plain_dropout_single_values() -> None:
    keras.utils.set_random_seed(0)
    x = np.ones((64, 8, 8, 4), "float32")
    per_sample = np.asarray(built_layer("dropout 0.5 per_sample\n", "dropout1")(x, training=True))
    kept = per_sample.reshape(64, -1)
    assert set(np.unique(kept.min(axis=1))) <= {0.0, 2.0}
    assert (kept.min(axis=1) == kept.max(axis=1)).all()  # each example all dropped or all kept
    assert 0 < (kept[:, 0] == 0).sum() < 64
    values = np.asarray(built_layer("dropout 0.5\n", "dropout1")(x, training=True))
    assert (
        (values.reshape(64, -1).min(axis=1) == 0) & (values.reshape(64, -1).max(axis=1) == 2)
    ).all()
    np.testing.assert_array_equal(built_layer("dropout 0.5 per_sample\n", "dropout1")(x), x)


def test_rescale_multiplies_then_offsets() -> None:
    x = np.full((1, 8, 8, 4), 255.0, "float32")
    np.testing.assert_allclose(built_layer("rescale 1/127.5 offset=-1\n", "rescale1")(x), 1.0)


def test_layerscale_starts_at_its_number_trains_and_survives_saving(tmp_path: Path) -> None:
    network = compile_text(SMALL_HEADER + "conv 1x1 6\nlayerscale 1e-6\n" + HEAD)
    model = save_inference_model(network, tmp_path / "model.keras")
    layer = model.get_layer("layerscale1")
    assert isinstance(layer, LayerScale)
    (gamma,) = layer.trainable_weights
    np.testing.assert_allclose(gamma.numpy(), np.full((6,), 1e-6, "float32"))
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)
    assert loaded.get_layer("layerscale1").get_config()["initial"] == 1e-6


def test_layernorm_and_normalize_are_keras_own_over_channels() -> None:
    model = build_models(
        compile_text(SMALL_HEADER + "normalize\nlayernorm eps=1e-6\n" + HEAD)
    ).inference
    norm, layer_norm = model.get_layer("normalize1"), model.get_layer("layernorm1")
    assert isinstance(norm, keras.layers.Normalization) and not norm.trainable_weights
    assert sum(int(np.prod(w.shape)) for w in norm.non_trainable_weights) == 2 * 4 + 1
    assert isinstance(layer_norm, keras.layers.LayerNormalization)
    assert layer_norm.epsilon == 1e-6
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32") * 3 + 1
    out = np.asarray(keras.Model(model.input, layer_norm.output)(x))
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-5)  # each position alone
    keras.backend.clear_session()


def test_normalize_by_constants_holds_no_weights_and_survives_saving(tmp_path: Path) -> None:
    body = "normalize mean=1,2,3,4 variance=4\nnormalize mean=0.5 variance=1,4,0.25,0\n"
    model = save_inference_model(compile_text(SMALL_HEADER + body + HEAD), tmp_path / "n.keras")
    assert model.get_layer("normalize1").weights == []
    assert model.get_layer("normalize2").weights == []
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 4)).astype("float32")
    once = (x - np.array([1, 2, 3, 4], "float32")) / 2
    # A variance of 0 divides by Keras' epsilon, 1e-7, as Keras' own layer does.
    twice = (once - 0.5) / np.array([1, 2, 0.5, 1e-7], "float32")
    out = keras.Model(model.input, model.get_layer("normalize2").output)(x)
    np.testing.assert_allclose(out, twice, rtol=1e-6)
    loaded = keras.saving.load_model(tmp_path / "n.keras")
    np.testing.assert_array_equal(loaded(x), model(x))
    keras.backend.clear_session()
