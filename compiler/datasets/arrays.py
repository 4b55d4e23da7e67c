"""The in-memory dataset every reader returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ArrayDataset:
    train_images: np.ndarray  # uint8, (N, H, W, C)
    train_labels: np.ndarray  # int32, (N,)
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...]

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def train_count(self) -> int:
        return len(self.train_labels)

    @property
    def test_count(self) -> int:
        return len(self.test_labels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        height, width, channels = self.train_images.shape[1:]
        return height, width, channels
