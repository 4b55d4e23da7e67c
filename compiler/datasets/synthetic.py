"""Random images for benchmarks only: nothing can be learned from them."""

from __future__ import annotations

import numpy as np

from compiler.datasets.arrays import ArrayDataset


def synthetic(
    image_size: tuple[int, int, int],
    *,
    seed: int = 0,
    train: int = 1024,
    test: int = 256,
    classes: int = 10,
) -> ArrayDataset:
    rng = np.random.default_rng(seed)
    return ArrayDataset(
        train_images=rng.integers(0, 256, (train, *image_size), dtype=np.uint8),
        train_labels=rng.integers(0, classes, train, dtype=np.int32),
        test_images=rng.integers(0, 256, (test, *image_size), dtype=np.uint8),
        test_labels=rng.integers(0, classes, test, dtype=np.int32),
        class_names=tuple(f"class{i}" for i in range(classes)),
    )
