"""A lost worker: when one of two loopback workers dies, the other stops within a bound
with a message naming it and how to resume; `--resume` on both finishes the run."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.compiler.test_resume import wait_for_first_checkpoint
from tests.compiler.test_training import metrics, needs_fashion
from tests.compiler.workers import start_workers
from tests.helpers import flat

pytestmark = [pytest.mark.keras, pytest.mark.slow, needs_fashion]

STEPS, EPOCHS, BATCH = 60, 2, 64
# On loopback a killed peer resets its connections and the survivor's collective fails
# at once (1-4 s measured); the bound leaves room for a loaded CI machine.
STOP_WITHIN_SECONDS = 60
TIMEOUT = 600


def start_run(run_dir: Path, *extra: str) -> list[subprocess.Popen[str]]:
    return start_workers(
        (
            "specs/fashion_mnist.ns",
            "--epochs", str(EPOCHS),
            "--steps-per-epoch", str(STEPS),
            "--batch-size", str(BATCH),
            "--checkpoint-every", "5",
            "--out", str(run_dir),
            *extra,
        )
    )  # fmt: skip


def test_a_killed_worker_stops_the_other_with_its_name_then_both_resume(
    tmp_path: Path,
) -> None:
    run_dir = tmp_path / "run"
    chief, other = start_run(run_dir)
    try:
        wait_for_first_checkpoint(chief, run_dir)
        other.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        output = chief.communicate(timeout=STOP_WITHIN_SECONDS)[0]
        assert time.monotonic() - killed_at < STOP_WITHIN_SECONDS
    finally:
        for process in (chief, other):
            process.kill()
            process.wait()
    assert chief.returncode == 1, output[-3000:]
    message = flat(output)
    assert "error[lost-worker]: the multi-worker run lost worker 1 (127.0.0.1:" in message
    assert "--resume" in message and str(run_dir / "checkpoints") in message

    resumed = start_run(run_dir, "--resume")
    outputs = [process.communicate(timeout=TIMEOUT)[0] for process in resumed]
    for process, text in zip(resumed, outputs, strict=True):
        assert process.returncode == 0, text[-3000:]
    assert "resuming epoch 1 at step" in outputs[0]
    result = metrics(run_dir)
    assert result.optimizer_steps == EPOCHS * STEPS
    assert result.images_seen == EPOCHS * STEPS * BATCH
    assert [epoch.epoch for epoch in result.history] == list(range(1, EPOCHS + 1))
