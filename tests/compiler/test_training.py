"""`netspec train` end to end, in subprocesses as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from netspec.records import Metrics, read_metrics, read_run_record
from tests.compiler.workers import finish, start_workers

pytestmark = [pytest.mark.keras, pytest.mark.slow]

FASHION = Path("/usr/share/datasets/fashion-mnist")
needs_fashion = pytest.mark.skipif(
    not FASHION.is_dir(), reason="apt-get install dataset-fashion-mnist"
)
# Quick runs: a capped number of steps per epoch on the real data.
QUICK = ("--steps-per-epoch", "12", "--batch-size", "64")


def train(
    *args: str, env: dict[str, str] | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netspec", "train", *args],
        capture_output=True,
        text=True,
        env=env,
        **kwargs,
    )  # type: ignore


def metrics(run_dir: Path) -> Metrics:
    found = read_metrics(run_dir)
    assert found is not None, f"{run_dir}: no epoch recorded"
    return found


@needs_fashion
def test_one_epoch_on_the_real_fashion_mnist_learns(tmp_path: Path) -> None:
    done = train("specs/fashion_mnist.ns", "--epochs", "1", "--out", str(tmp_path / "run"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = metrics(tmp_path / "run")
    assert len(result.history) == 1
    assert result.history[-1].val_accuracy >= 0.85, result
    assert "val_accuracy" in done.stdout
    # On this CPU the peak is detected, so the epoch line reports model-FLOP utilisation.
    assert 0 < (result.history[0].mfu or 0) < 1
    assert "MFU" in done.stdout
    for produced in ("model.keras", "spec.ns", "history.csv", "logs", "checkpoints"):
        assert (tmp_path / "run" / produced).exists(), produced


@needs_fashion
def test_mirrored_over_two_logical_cpus_trains_and_the_loss_falls(tmp_path: Path) -> None:
    env = {**os.environ, "NETSPEC_CPU_REPLICAS": "2"}
    done = train(
        "specs/fashion_mnist.ns",
        "--strategy",
        "mirrored",
        "--epochs",
        "3",
        "--out",
        str(tmp_path / "run"),
        *QUICK,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = metrics(tmp_path / "run")
    assert read_run_record(tmp_path / "run").replicas == 2
    # 10,000 test images in batches of 64 end with a short batch of 16: none is dropped.
    assert [record.val_images for record in result.history] == [10_000] * 3
    losses = [record.loss for record in result.history]
    assert losses[-1] < losses[0], losses


@needs_fashion
def test_two_workers_on_localhost_train_to_completion(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    arguments = ("specs/fashion_mnist.ns", "--epochs", "2", "--out", str(run_dir), *QUICK)
    finish(start_workers(arguments))
    result = metrics(run_dir)
    assert len(result.history) == 2 and read_run_record(run_dir).replicas == 2
    # Each worker evaluates its shard; together they cover every test image once.
    assert [record.val_images for record in result.history] == [10_000] * 2
    assert (run_dir / "model.keras").exists()
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "checkpoints",
        "history.csv",
        "logs",
        "metrics.json",
        "model.keras",
        "run.json",
        "spec.ns",
    ]
