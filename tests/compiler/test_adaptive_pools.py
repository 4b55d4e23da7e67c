"""Adaptive pooling in Keras: every output grid, traced and eager, against PyTorch's windows.

Keras' own adaptive layers slide a window one wider than an output side of 1: traced, that
is a negative dimension; eager max pooling dies of SIGFPE. Every grid from 1x1 to the input's
own size is built here through the builder, as `netspec build` builds it.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from rich.console import Console

from compiler.build import build_layer
from compiler.runner import run
from compiler.session import CheckedSpec, RunOptions
from netspec import ir
from netspec.api import read_spec
from tests.compiler.test_training import metrics
from tests.helpers import SPECS

pytestmark = pytest.mark.keras

HEIGHT, WIDTH, CHANNELS = 5, 4, 3
GRIDS = list(itertools.product(range(1, HEIGHT + 1), range(1, WIDTH + 1)))
KINDS = {"avg": (ir.AdaptiveAvgPool, np.mean), "max": (ir.AdaptiveMaxPool, np.max)}


def torch_windows(size: int, cells: int) -> list[tuple[int, int]]:
    """torch.nn.AdaptiveAvgPool2d's cell i: from floor(i * size / cells) to
    ceil((i + 1) * size / cells)."""
    return [(math.floor(i * size / cells), math.ceil((i + 1) * size / cells)) for i in range(cells)]


def reference(x: np.ndarray, grid: tuple[int, int], reduce: np.ufunc) -> np.ndarray:
    rows, columns = torch_windows(x.shape[1], grid[0]), torch_windows(x.shape[2], grid[1])
    return np.stack(
        [
            np.stack(
                [reduce(x[:, top:bottom, left:right], axis=(1, 2)) for left, right in columns], 1
            )
            for top, bottom in rows
        ],
        1,
    )


@pytest.mark.slow
@pytest.mark.parametrize("pooling", KINDS)
def test_every_grid_pools_to_torchs_windows_traced_and_eager(pooling: str) -> None:
    kind, reduce = KINDS[pooling]
    x = np.random.default_rng(3).normal(size=(2, HEIGHT, WIDTH, CHANNELS)).astype("float32")
    image = keras.Input((HEIGHT, WIDTH, CHANNELS))
    for grid in GRIDS:
        node = kind(name="head/pool", inputs=("input",), span=ir.Span(line=1, column=1), grid=grid)
        model = keras.Model(image, build_layer(node, [image]))
        # One Keras layer for the node, named after it, with the grid `check` reports.
        assert [layer.name for layer in model.layers[1:]] == ["head_pool"], grid
        assert tuple(model.output.shape) == (None, *grid, CHANNELS), grid

        @tf.function
        def traced(batch: tf.Tensor, model: keras.Model = model) -> tuple[tf.Tensor, tf.Tensor]:
            with tf.GradientTape() as tape:
                tape.watch(batch)
                pooled = model(batch)
                total = tf.reduce_sum(pooled)
            return pooled, tape.gradient(total, batch)

        expected = reference(x, grid, reduce)
        np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-6, err_msg=str(grid))
        pooled, gradient = traced(tf.constant(x))
        np.testing.assert_allclose(pooled.numpy(), expected, atol=1e-6, err_msg=str(grid))
        assert np.isfinite(gradient.numpy()).all(), grid
    keras.backend.clear_session()


@pytest.mark.slow
def test_the_shipped_mobilenet_trains(tmp_path: Path) -> None:
    # Its head pools `to 1x1`, which Keras' adaptive pooling cannot trace. At 32x32 (the
    # head then pools a 1x1 map) on synthetic data, two steps of 8.
    path = SPECS / "zoo" / "mobilenet.ns"
    spec = CheckedSpec.of(read_spec(path), str(path), (32, 32, None))
    options = RunOptions(
        out_dir=tmp_path / "run",
        dataset="synthetic",
        epochs=1,
        steps_per_epoch=2,
        batch_size=8,
        bn_batches=0,
    )
    run(spec, options, Console(record=True, width=200))
    result = metrics(tmp_path / "run")
    assert result.optimizer_steps == 2
    assert all(np.isfinite(epoch.loss) for epoch in result.history), result.history
    keras.backend.clear_session()
