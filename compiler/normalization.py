"""Per-channel input normalization, measured on training images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf


@dataclass(frozen=True)
class Normalization:
    """Per-channel mean and standard deviation of the training images, in [0, 1] units."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def of(cls, images: np.ndarray) -> Normalization:
        pixels = images.reshape(-1, images.shape[-1]).astype(np.float64) / 255.0
        return cls(
            pixels.mean(axis=0).astype(np.float32),
            np.maximum(pixels.std(axis=0), 1e-3).astype(np.float32),
        )

    def apply(self, images: tf.Tensor) -> tf.Tensor:
        """uint8 pixels -> normalized float32."""
        return (tf.cast(images, tf.float32) / 255.0 - self.mean) / self.std
