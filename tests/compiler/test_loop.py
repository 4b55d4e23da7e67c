"""The training step itself: chunks of steps per call, and float16 loss scaling."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from compiler.build import build_models
from compiler.loop import make_steps
from compiler.precision import dtype_policy, wrap_optimizer
from netspec.api import compile_text

pytestmark = pytest.mark.keras

SPEC = "network t\ninput 8x8x3\nclasses 4\nconv 3x3 8 bn\nmaxpool 2x2/2\ngap\ndense classes\n"


def batches(count: int) -> tf.data.Dataset:
    rng = np.random.default_rng(0)
    images = rng.normal(size=(count * 4, 8, 8, 3)).astype("float32")
    labels = rng.integers(0, 4, count * 4).astype("int32")
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)


@pytest.mark.parametrize("policy", ["float32", "mixed_float16"])
def test_a_chunk_of_steps_updates_the_weights_that_many_times(policy: str) -> None:
    strategy = tf.distribute.get_strategy()
    with dtype_policy(policy):
        models = build_models(compile_text(SPEC))
    optimizer = wrap_optimizer(keras.optimizers.SGD(0.1), policy)
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    optimizer.build(models.training.trainable_variables)
    steps = make_steps(strategy, models, optimizer, 4, 0.0, 4)
    before = [np.array(w) for w in models.training.trainable_weights]

    loss, correct = steps.train(iter(batches(5)), tf.constant(5))

    assert int(optimizer.iterations.numpy()) == 5
    assert np.isfinite(float(loss)) and 0 <= float(correct) <= 20
    after = models.training.trainable_weights
    assert all(not np.allclose(b, np.array(a)) for b, a in zip(before, after, strict=True))
