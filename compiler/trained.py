"""A trained model and what its run recorded about it: the inference model, the class
names and the evaluation preprocessing (`classes.json`), and the spec it came from."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from compiler.normalization import Normalization
from compiler.streaming import evaluation_decode

MODEL = "model.keras"
CLASSES = "classes.json"
SPEC = "spec.ns"


class TrainedError(Exception):
    """A model or run directory that cannot be used, said in one sentence with its path."""


@dataclass(frozen=True)
class Preprocessing:
    """The run's evaluation preprocessing, read back from `classes.json`."""

    shape: tuple[int, int, int]
    center_crop: float | None
    normalization: Normalization

    @classmethod
    def of(cls, recorded: dict[str, Any]) -> Preprocessing:
        height, width, channels = recorded["input"]
        return cls(
            (int(height), int(width), int(channels)),
            recorded.get("center_crop"),
            Normalization(
                np.asarray(recorded["mean"], np.float32), np.asarray(recorded["std"], np.float32)
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
    run_dir: Path | None
    classes: list[str]
    preprocessing: Preprocessing | None

    @property
    def spec_text(self) -> str:
        if self.run_dir is None or not (self.run_dir / SPEC).is_file():
            raise TrainedError(f"{self.model_path}: no run directory with {SPEC} beside it")
        return (self.run_dir / SPEC).read_text()

    def require_preprocessing(self) -> Preprocessing:
        if self.preprocessing is None:
            raise TrainedError(
                f"{self.model_path}: no {CLASSES} beside it, so the evaluation preprocessing "
                "is unknown: give the run directory `netspec train` wrote"
            )
        return self.preprocessing


def load_trained(model_or_run: Path) -> Trained:
    """A run directory (its model.keras and classes.json) or a .keras file (classes.json
    beside it if there is one)."""
    model_path = model_or_run / MODEL if model_or_run.is_dir() else model_or_run
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
    run_dir = folder if (folder / SPEC).is_file() else None
    classes_file = folder / CLASSES
    if not classes_file.is_file():
        count = int(model.output_shape[-1])
        return Trained(model, model_path, run_dir, [str(i) for i in range(count)], None)
    try:
        recorded = json.loads(classes_file.read_text())
        preprocessing = Preprocessing.of(recorded["preprocessing"])
        classes = [str(name) for name in recorded["classes"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise TrainedError(f"{classes_file}: not what `netspec train` writes ({exc})") from None
    return Trained(model, model_path, run_dir, classes, preprocessing)
