"""Checkpoints inside an epoch: a run killed with SIGKILL at any step and resumed takes the
same optimizer steps on the same images as a run never killed; SIGTERM saves and stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.compiler.test_training import metrics, needs_fashion, train

pytestmark = [pytest.mark.keras, pytest.mark.slow, needs_fashion]

STEPS, EPOCHS, BATCH = 60, 2, 64
# float32 and TensorFlow's deterministic kernels: the killed run can match weight for weight.
ARGS = (
    "specs/fashion_mnist.ns",
    "--epochs", str(EPOCHS),
    "--steps-per-epoch", str(STEPS),
    "--batch-size", str(BATCH),
    "--checkpoint-every", "7",
    "--no-mixed-precision",
)  # fmt: skip
ENV = {**os.environ, "TF_DETERMINISTIC_OPS": "1"}
TIMEOUT = 300


def start(run_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "netspec", "train", *ARGS, "--out", str(run_dir)],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_first_checkpoint(process: subprocess.Popen[str], run_dir: Path) -> None:
    index = run_dir / "checkpoints" / "checkpoint"
    deadline = time.monotonic() + TIMEOUT
    while not index.exists():
        assert process.poll() is None, process.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "no checkpoint within the timeout"
        time.sleep(0.05)


def saved_position(run_dir: Path) -> tuple[int, int]:
    reader = tf.train.load_checkpoint(str(run_dir / "checkpoints"))
    value = "/.ATTRIBUTES/VARIABLE_VALUE"
    return int(reader.get_tensor("epoch" + value)), int(reader.get_tensor("step" + value))


def resume(run_dir: Path) -> subprocess.CompletedProcess[str]:
    done = train(*ARGS, "--out", str(run_dir), "--resume", env=ENV, timeout=TIMEOUT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def weights(run_dir: Path) -> list[np.ndarray]:
    return [np.asarray(w) for w in keras.saving.load_model(run_dir / "model.keras").weights]


def test_a_run_killed_mid_epoch_resumes_to_the_same_steps_images_and_weights(
    tmp_path: Path,
) -> None:
    whole = train(*ARGS, "--out", str(tmp_path / "whole"), env=ENV, timeout=TIMEOUT)
    assert whole.returncode == 0, whole.stdout[-3000:] + whole.stderr[-3000:]

    killed = tmp_path / "killed"
    process = start(killed)
    wait_for_first_checkpoint(process, killed)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=TIMEOUT)
    epoch, step = saved_position(killed)
    assert epoch == 0 and 0 < step < STEPS, "the kill should land inside the first epoch"

    done = resume(killed)
    assert f"resuming epoch 1 at step {step}" in done.stdout
    expected, got = metrics(tmp_path / "whole"), metrics(killed)
    assert got.optimizer_steps == expected.optimizer_steps == EPOCHS * STEPS
    assert got.images_seen == expected.images_seen == EPOCHS * STEPS * BATCH
    for key in ("loss", "accuracy", "val_accuracy"):
        assert [getattr(r, key) for r in got.history] == pytest.approx(
            [getattr(r, key) for r in expected.history], rel=1e-5
        ), key
    for ours, theirs in zip(weights(killed), weights(tmp_path / "whole"), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_sigterm_saves_a_checkpoint_and_exits_143_then_resume_finishes(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    process = start(run_dir)
    wait_for_first_checkpoint(process, run_dir)
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=60)[0]
    assert process.returncode == 143, output[-3000:]
    assert "stopped by SIGTERM" in output and "--resume" in output
    assert "Traceback" not in output
    epoch, step = saved_position(run_dir)
    assert 0 < epoch * STEPS + step < EPOCHS * STEPS

    resume(run_dir)
    result = metrics(run_dir)
    assert result.optimizer_steps == EPOCHS * STEPS
    assert [epoch.epoch for epoch in result.history] == list(range(1, EPOCHS + 1))
