"""The tf.data pipeline: batching, normalization, augmentation and resizing do what they say."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.datasets import ArrayDataset
from compiler.pipeline import Normalization, make_datasets
from netspec.ir import TrainConfig
from netspec.ir.training import AugmentConfig

pytestmark = pytest.mark.keras


def arrays(train: int = 10, test: int = 5, size: int = 6, channels: int = 3) -> ArrayDataset:
    rng = np.random.default_rng(0)
    return ArrayDataset(
        train_images=rng.integers(0, 256, (train, size, size, channels), dtype=np.uint8),
        train_labels=np.arange(train, dtype=np.int32),
        test_images=rng.integers(0, 256, (test, size, size, channels), dtype=np.uint8),
        test_labels=np.arange(test, dtype=np.int32),
        class_names=tuple(str(i) for i in range(train)),
    )


def unnormalize(images: np.ndarray, norm: Normalization) -> np.ndarray:
    return np.rint((images * norm.std + norm.mean) * 255).astype(np.int64)


def test_train_batches_are_full_shuffled_and_normalized_per_channel() -> None:
    data = arrays()
    train, _ = make_datasets(data, TrainConfig(), 4)
    batches = list(train.as_numpy_iterator())
    assert [images.shape for images, _ in batches] == [(4, 6, 6, 3)] * 2  # 10 // 4, rest dropped
    labels = np.concatenate([labels for _, labels in batches])
    assert len(set(labels)) == 8 and labels.tolist() != sorted(labels.tolist())
    norm = Normalization.of(data.train_images)
    for images, batch_labels in batches:
        assert images.dtype == np.float32
        np.testing.assert_array_equal(unnormalize(images, norm), data.train_images[batch_labels])


def test_evaluation_keeps_every_image_in_order() -> None:
    data = arrays()
    _, test = make_datasets(data, TrainConfig(), 4)
    labels = np.concatenate([labels for _, labels in test.as_numpy_iterator()])
    assert labels.tolist() == list(range(5))


def test_crop_and_flip_give_a_window_of_the_padded_image_or_its_mirror() -> None:
    data = arrays(train=8)
    config = TrainConfig(augment=AugmentConfig(crop=2, flip=True), seed=3)
    train, _ = make_datasets(data, config, 8)
    images, labels = next(train.as_numpy_iterator())
    pixels = unnormalize(images, Normalization.of(data.train_images))
    moved = 0
    for image, label in zip(pixels, labels, strict=True):
        padded = np.pad(data.train_images[label].astype(np.int64), ((2, 2), (2, 2), (0, 0)))
        windows = [
            candidate
            for top in range(5)
            for left in range(5)
            for window in [padded[top : top + 6, left : left + 6]]
            for candidate in (window, window[:, ::-1])
        ]
        assert any(np.array_equal(image, window) for window in windows)
        moved += not np.array_equal(image, data.train_images[label])
    assert moved > 0


def test_resize_upscales_every_batch() -> None:
    train, test = make_datasets(arrays(), TrainConfig(resize=(16, 12)), 4)
    assert next(train.as_numpy_iterator())[0].shape == (4, 16, 12, 3)
    assert next(test.as_numpy_iterator())[0].shape == (4, 16, 12, 3)


def test_inception_crop_of_arrays_keeps_the_size_and_evaluation_takes_the_centre() -> None:
    data = arrays(train=8, test=1, size=20)
    framed = np.zeros((1, 20, 20, 3), np.uint8)
    framed[:, 5:15, 5:15] = 255  # white centre, black frame
    data = ArrayDataset(data.train_images, data.train_labels, framed, np.zeros(1, np.int32), ("a",))
    config = TrainConfig(augment=AugmentConfig(inception_crop=True), eval_crop=0.5)
    train, test = make_datasets(data, config, 8)
    images, labels = next(train.as_numpy_iterator())
    crops = unnormalize(images, Normalization.of(data.train_images))
    assert crops.shape == (8, 20, 20, 3)
    # A window of 8%-100% of the area, resized back: rarely the image itself.
    moved = [
        not np.array_equal(c, data.train_images[y]) for c, y in zip(crops, labels, strict=True)
    ]
    assert sum(moved) > 4
    (centre,) = unnormalize(next(test.as_numpy_iterator())[0], Normalization.of(data.train_images))
    assert centre.min() == 255
