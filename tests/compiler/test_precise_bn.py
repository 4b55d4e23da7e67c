"""Precise batch norm: evaluation uses statistics of the weights that were trained."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from rich.console import Console

from compiler.precise_bn import batch_norm_layers, make_recompute
from compiler.runner import run
from compiler.session import CheckedSpec, RunOptions
from tests.compiler.test_training import needs_fashion

pytestmark = pytest.mark.keras


def two_norms() -> keras.Model:
    inputs = keras.Input((3,))
    first = keras.layers.BatchNormalization(name="first")(inputs)  # Keras' momentum 0.99
    second = keras.layers.BatchNormalization(momentum=0.9, name="second")(
        keras.layers.Dense(2, kernel_initializer="ones", name="mix")(first)
    )
    return keras.Model(inputs, second)


def test_the_statistics_become_the_average_of_the_batches_moments() -> None:
    model = two_norms()
    rng = np.random.default_rng(0)
    batches = [rng.normal(loc=5.0, scale=3.0, size=(16, 3)).astype("float32") for _ in range(4)]
    data = tf.data.Dataset.from_tensor_slices(np.stack(batches)).map(lambda x: (x, 0))
    parameters = model.count_params()

    make_recompute(tf.distribute.get_strategy(), model)(iter(data), len(batches))

    first, second = model.get_layer("first"), model.get_layer("second")
    np.testing.assert_allclose(
        first.moving_mean.numpy(), np.mean([b.mean(0) for b in batches], 0), rtol=1e-4
    )
    np.testing.assert_allclose(
        first.moving_variance.numpy(), np.mean([b.var(0) for b in batches], 0), rtol=1e-4
    )
    # The second layer sees the first's training-mode output: normalised, summed by `mix`.
    normalised = [(b - b.mean(0)) / np.sqrt(b.var(0) + first.epsilon) for b in batches]
    mixed = [n.sum(1, keepdims=True).repeat(2, 1) for n in normalised]
    np.testing.assert_allclose(
        second.moving_variance.numpy(), np.mean([m.var(0) for m in mixed], 0), rtol=1e-3
    )
    # Nothing about the model changed but two statistics.
    assert model.count_params() == parameters
    assert (first.momentum, second.momentum) == (0.99, 0.9)


def test_frozen_and_nested_batch_norms() -> None:
    inner_input = keras.Input((3,))
    inner = keras.Model(inner_input, keras.layers.BatchNormalization(name="inner")(inner_input))
    outer_input = keras.Input((3,))
    frozen = keras.layers.BatchNormalization(name="frozen")
    frozen.trainable = False
    model = keras.Model(outer_input, frozen(inner(outer_input)))
    assert [layer.name for layer in batch_norm_layers(model)] == ["inner"]


@pytest.mark.slow
@needs_fashion
def test_a_new_users_default_batch_norm_spec_evaluates_as_it_trained(tmp_path: Path) -> None:
    # Written as a user outside the project would: Keras' default batch norm (momentum
    # 0.99), Adam at 0.002, one epoch. Moving averages alone evaluated it at 0.714.
    text = (
        "network small\ninput 28x28x1\nclasses 10\n"
        "defaults:\n  conv relu same bn\n"
        "stem:\n  conv 3x3 24\n  maxpool 2x2\n"
        "stage 14:\n  inception 3a 24/24-32/8-16/16\n  maxpool 2x2\n"
        "stage 7:\n  inception 4a 48/32-64/8-16/32\n"
        "head:\n  gap\n  dense classes\n"
        "train:\n  dataset fashion_mnist\n  epochs 1\n  batch 128\n  optimizer adam lr=0.002\n"
    )
    spec = CheckedSpec.of(text, str(tmp_path / "small.ns"))
    result = run(spec, RunOptions(out_dir=tmp_path / "run"), Console(quiet=True))
    assert result.val_accuracy >= 0.85, result
