"""Where a run directory goes, and its checkpoints and final model saved whole or not at
all. Its records are netspec.records'."""

from __future__ import annotations

import os
import time
from pathlib import Path

import keras
import tensorflow as tf


class CheckpointNotSaved(Exception):
    """A save that failed (a full disk, a lost mount); the previous checkpoint still holds."""


def default_run_dir(network: str, root: Path = Path("runs")) -> Path:
    return root / f"{network}-{time.strftime('%Y%m%d-%H%M%S')}"


def newest_run_dir(network: str, root: Path = Path("runs")) -> Path | None:
    runs = sorted(root.glob(f"{network}-*"), key=lambda p: p.stat().st_mtime)
    return runs[-1] if runs else None


def save_checkpoint(manager: tf.train.CheckpointManager, number: tf.Variable) -> None:
    """TensorFlow writes a checkpoint's files under a new number and moves the `checkpoint`
    index to it only once they are written, so a failure midway leaves the index on the
    previous one, which `--resume` restores."""
    try:
        manager.save(checkpoint_number=number)
    except (OSError, tf.errors.OpError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else exc.message
        previous = manager.latest_checkpoint
        raise CheckpointNotSaved(
            f"the checkpoint could not be saved in {manager.directory} ({reason}); "
            + (f"{previous} is intact" if previous else "no earlier checkpoint exists")
        ) from None


def save_model(model: keras.Model, path: Path) -> None:
    """The whole model file or none: Keras writes the archive in place, and a kill midway
    would leave a truncated model.keras that `netspec runs` and a rerun sweep take for a
    finished run. The temporary name ends in `.keras`, which Keras requires."""
    temporary = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        model.save(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
