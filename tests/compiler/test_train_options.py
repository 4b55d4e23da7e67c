"""`netspec train`'s options beyond the spec: how it computes (never what it learns), and
which data it reads. In-process, through `compiler.runner.run` as the train command calls it."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from rich.console import Console

from compiler.runner import MAX_STEPS_PER_EXECUTION, Throughput, run
from compiler.session import CheckedSpec, RunOptions
from netspec.api import read_spec
from netspec.records import Metrics, RunRecord, read_run_record
from tests.compiler.test_training import metrics, needs_fashion
from tests.helpers import SPECS, flat

pytestmark = pytest.mark.keras

FASHION_SPEC = SPECS / "fashion_mnist.ns"


def train_fashion(run_dir: Path, **options: object) -> tuple[Metrics, RunRecord, str]:
    """Quick runs: 12 steps of 64 per epoch; the records and what the run printed."""
    spec = CheckedSpec.of(read_spec(FASHION_SPEC), str(FASHION_SPEC))
    console = Console(record=True, width=200)
    settings = {"steps_per_epoch": 12, "batch_size": 64, **options}
    run(spec, RunOptions(out_dir=run_dir, **settings), console)  # type: ignore[arg-type]
    return metrics(run_dir), read_run_record(run_dir), flat(console.export_text())


@pytest.mark.slow
@needs_fashion
def test_steps_per_execution_runs_every_step_once(tmp_path: Path) -> None:
    # 12 steps in chunks of 5 (5, 5, 2) under XLA: a lost or repeated chunk shows in the count.
    result, record, _ = train_fashion(
        tmp_path / "run", steps_per_execution=5, jit=True, mixed_precision=False, epochs=2
    )
    assert result.optimizer_steps == 2 * 12
    assert record.jit is True and record.steps_per_execution == 5
    assert record.precision == "float32"
    losses = [epoch.loss for epoch in result.history]
    assert losses[-1] < losses[0], losses


@pytest.mark.slow
@needs_fashion
def test_mixed_precision_learns_and_exports_a_bfloat16_model(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result, record, _ = train_fashion(run_dir, mixed_precision=True, epochs=2)
    assert record.precision == "mixed_bfloat16"
    # 24 steps on the real data: the loss falls, and accuracy is well above the 0.1 of
    # guessing among 10 classes.
    losses = [epoch.loss for epoch in result.history]
    assert losses[-1] < losses[0], losses
    assert result.history[-1].val_accuracy > 0.3, result
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
    throughput = Throughput(flops_per_image=flops_per_image, peak=peak, peak_source="test")
    assert throughput.steps_per_execution(global_batch=128) == expected


@pytest.mark.slow
def test_dataset_override_trains_on_synthetic_data_sized_to_the_network(tmp_path: Path) -> None:
    result, record, output = train_fashion(
        tmp_path / "run", dataset="synthetic", epochs=1, steps_per_epoch=2
    )
    assert "on synthetic" in output
    assert record.config.dataset.name == "synthetic" and result.optimizer_steps == 2
    # The first lines say what was chosen and why; on a CPU XLA stays off, as recorded.
    assert output.startswith(f"precision {record.precision}: ")
    assert "XLA off: measured slower on CPUs" in output and record.jit is False


@pytest.mark.slow
def test_dataset_folder_override_reads_the_data_dir(tmp_path: Path) -> None:
    for label in range(10):  # the spec's 10 classes, 28x28 grey
        folder = tmp_path / "images" / f"class{label}"
        folder.mkdir(parents=True)
        for index in range(4):
            pixels = np.full((28, 28, 1), 20 * label + index, np.uint8)
            (folder / f"{index}.png").write_bytes(tf.io.encode_png(pixels).numpy())
    _, record, output = train_fashion(
        tmp_path / "run", dataset="folder", data_dir=tmp_path / "images", epochs=1, batch_size=8
    )
    assert "on folder: 30 images" in output  # one of each class's 4 held out
    assert record.config.dataset.name == "folder"
    assert record.held_out is not None and len(record.held_out.files) == 10
