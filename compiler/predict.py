"""`netspec predict`: image files through a trained model, preprocessed as its run's
evaluation was, named by the run's class names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from compiler.trained import Preprocessing, Trained

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
BATCH = 64


class UnreadableImage(ValueError):
    """An image file TensorFlow cannot decode, named by its path."""


@dataclass(frozen=True)
class Prediction:
    path: Path
    top: list[tuple[str, float]]  # (class name, probability), most probable first


def image_files(paths: list[Path]) -> list[Path]:
    """The given files, and every image under the given folders, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
        elif path.is_file():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def predict(
    trained: Trained,
    files: list[Path],
    top: int,
    advance: Callable[[int], None] = lambda _: None,
) -> Iterator[Prediction]:
    """Top-`top` classes of each file, in batches; `advance(n)` after each batch."""
    preprocessing = trained.preprocessing()
    top = min(top, len(trained.classes))
    for start in range(0, len(files), BATCH):
        chunk = files[start : start + BATCH]
        encoded = tf.stack([tf.io.read_file(str(path)) for path in chunk])
        try:
            images = preprocessing.images(encoded)
        except tf.errors.InvalidArgumentError:
            raise UnreadableImage(_first_unreadable(chunk, preprocessing)) from None
        logits = trained.model(images, training=False)
        probabilities = tf.nn.softmax(tf.cast(logits, tf.float32)).numpy()
        for path, row in zip(chunk, probabilities, strict=True):
            best = np.argsort(-row, kind="stable")[:top]
            yield Prediction(path, [(trained.classes[i], float(row[i])) for i in best])
        advance(len(chunk))


def _first_unreadable(chunk: list[Path], preprocessing: Preprocessing) -> str:
    for path in chunk:
        try:
            preprocessing.images(tf.stack([tf.io.read_file(str(path))]))
        except tf.errors.InvalidArgumentError:
            return f"{path}: not an image TensorFlow can decode (PNG, JPEG, BMP, GIF)"
    return f"{chunk[0]}...: images of different sizes TensorFlow cannot batch"
