"""A trained model and what its run recorded about it (netspec.records.RunRecord): the
class names, the evaluation preprocessing, the resolved training settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from compiler.normalization import Normalization
from compiler.streaming import evaluation_decode
from netspec import records
from netspec.records import MODEL_FILE, RUN_FILE, RecordError, RunRecord, read_run_record


class TrainedError(Exception):
    """A model or run directory that cannot be used, said in one sentence with its path."""


@dataclass(frozen=True)
class Preprocessing:
    """The run's evaluation preprocessing, as TensorFlow applies it."""

    shape: tuple[int, int, int]
    center_crop: float | None
    normalization: Normalization

    @classmethod
    def of(cls, recorded: records.Preprocessing) -> Preprocessing:
        return cls(
            recorded.input,
            recorded.center_crop,
            Normalization(
                np.asarray(recorded.mean, np.float32), np.asarray(recorded.std, np.float32)
            ),
        )

    def images(self, encoded: tf.Tensor) -> tf.Tensor:
        """A batch of encoded image files (PNG, JPEG, ...) -> the model's normalized input."""
        decode = evaluation_decode(self.shape, self.center_crop)
        pixels = tf.map_fn(decode, encoded, fn_output_signature=tf.uint8)
        return self.normalization.apply(pixels)


@dataclass(frozen=True)
class Trained:
    model: keras.Model
    model_path: Path
    # The run's record beside the model, or None (a bare .keras file), and then why not.
    record: RunRecord | None
    missing: str

    @property
    def run_dir(self) -> Path:
        return self.model_path.parent

    @property
    def classes(self) -> tuple[str, ...]:
        if self.record is None:
            return tuple(str(i) for i in range(int(self.model.output_shape[-1])))
        return self.record.classes

    def require_record(self) -> RunRecord:
        if self.record is None:
            raise TrainedError(self.missing)
        return self.record

    def preprocessing(self) -> Preprocessing:
        return Preprocessing.of(self.require_record().preprocessing)


def load_trained(model_or_run: Path) -> Trained:
    """A run directory (its model.keras and run.json) or a .keras file (run.json beside it
    if there is one)."""
    model_path = model_or_run / MODEL_FILE if model_or_run.is_dir() else model_or_run
    if not model_path.is_file():
        raise TrainedError(
            f"{model_path}: no such model"
            + (" (has the run finished its first epoch?)" if model_or_run.is_dir() else "")
        )
    try:
        model = keras.saving.load_model(model_path, compile=False)
    except (ValueError, OSError) as exc:
        raise TrainedError(f"{model_path}: not a Keras model ({exc})") from None
    folder = model_path.parent
    try:
        return Trained(model, model_path, read_run_record(folder), "")
    except RecordError as exc:
        if (folder / RUN_FILE).exists():
            raise TrainedError(str(exc)) from None
        missing = (
            f"{exc}; without the run's record the class names and the evaluation "
            "preprocessing are unknown: give the run directory `netspec train` wrote"
        )
        return Trained(model, model_path, None, missing)
