"""`netspec train`'s options beyond the spec: how it computes (never what it learns), and
which data it reads."""

from __future__ import annotations

from pathlib import Path

import keras
import pytest

from compiler.runner import MAX_STEPS_PER_EXECUTION, Throughput
from tests.compiler.test_training import QUICK, flat, metrics, needs_fashion, train

pytestmark = [pytest.mark.keras, pytest.mark.slow]


@needs_fashion
def test_steps_per_execution_runs_every_step_once(tmp_path: Path) -> None:
    # 12 steps in chunks of 5 (5, 5, 2) under XLA: a lost or repeated chunk shows in the count.
    run_dir = tmp_path / "run"
    args = ("--steps-per-execution", "5", "--jit", "--no-mixed-precision", "--epochs", "2")
    done = train("specs/fashion_mnist.ns", *args, "--out", str(run_dir), *QUICK)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = metrics(run_dir)
    assert result["optimizer_steps"] == 2 * 12
    assert result["jit"] is True and result["steps_per_execution"] == 5
    assert result["precision"] == "float32"
    losses = [record["loss"] for record in result["history"]]
    assert losses[-1] < losses[0], losses


@needs_fashion
def test_mixed_precision_learns_and_exports_a_bfloat16_model(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    done = train(
        "specs/fashion_mnist.ns", "--mixed-precision", "--epochs", "2", "--out", str(run_dir),
        *QUICK,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = metrics(run_dir)
    assert result["precision"] == "mixed_bfloat16"
    # 24 steps on the real data: the loss falls, and accuracy is well above the 0.1 of
    # guessing among 10 classes (batch norm's statistics still lag this early).
    losses = [record["loss"] for record in result["history"]]
    assert losses[-1] < losses[0], losses
    assert result["val_accuracy"] > 0.3, result
    model = keras.saving.load_model(run_dir / "model.keras")
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(layer.dtype_policy.name == "mixed_bfloat16" for layer in convs)
    assert all(weight.dtype == "float32" for weight in model.weights)


@pytest.mark.parametrize(
    ("flops_per_image", "peak", "expected"),
    [
        (6e7, 1e12, MAX_STEPS_PER_EXECUTION),  # a tiny model: as many as allowed
        (1e9, 1e12, 1),  # a 0.128 s step at peak: one per call
        (2e8, 1e12, 7),  # a 25.6 ms step at peak: 7 fill the 0.2 s a call should cover
        (6e7, None, 1),  # no peak known: no guess
    ],
)
def test_default_steps_per_execution_follows_the_static_step_cost(
    flops_per_image: float, peak: float | None, expected: int
) -> None:
    throughput = Throughput(flops_per_image=flops_per_image, peak=peak)
    assert throughput.steps_per_execution(global_batch=128) == expected


def test_dataset_override_trains_on_synthetic_data_sized_to_the_network(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    args = ("--dataset", "synthetic", "--epochs", "1", "--steps-per-epoch", "2", "--out")
    done = train("specs/fashion_mnist.ns", *args, str(run_dir))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "on synthetic" in flat(done.stdout)
    assert metrics(run_dir)["dataset"] == "synthetic"


def test_dataset_folder_override_reads_the_data_dir(tmp_path: Path) -> None:
    import numpy as np
    import tensorflow as tf

    for label in range(10):  # the spec's 10 classes, 28x28 grey
        folder = tmp_path / "images" / f"class{label}"
        folder.mkdir(parents=True)
        for index in range(4):
            pixels = np.full((28, 28, 1), 20 * label + index, np.uint8)
            (folder / f"{index}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    run_dir = tmp_path / "run"
    args = ("--dataset", "folder", "--data-dir", str(tmp_path / "images"), "--epochs", "1")
    done = train("specs/fashion_mnist.ns", *args, "--batch-size", "8", "--out", str(run_dir))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "on folder: 30 images" in flat(done.stdout)  # one of each class's 4 held out
    assert metrics(run_dir)["dataset"] == "folder"

    without = train("specs/fashion_mnist.ns", "--dataset", "folder", "--out", str(run_dir))
    assert without.returncode == 1
    assert "error[dataset]: --dataset folder reads the images from --data-dir" in flat(
        without.stdout
    )
