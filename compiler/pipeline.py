"""The tf.data input pipeline: shuffle, augment on the fly, resize, normalize, batch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from compiler.datasets import ArrayDataset
from netspec.ir import TrainConfig


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


def _options() -> tf.data.Options:
    options = tf.data.Options()
    # Arrays in memory have no files to shard by: each worker takes its share of elements.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


def make_datasets(
    data: ArrayDataset, config: TrainConfig, global_batch: int
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    norm = Normalization.of(data.train_images)
    height, width, _ = data.image_shape
    crop, flip, resize = config.augment.crop, config.augment.flip, config.resize

    def augment(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if crop:
            image = tf.image.resize_with_crop_or_pad(image, height + 2 * crop, width + 2 * crop)
            image = tf.image.random_crop(image, (height, width, data.image_shape[2]))
        if flip:
            image = tf.image.random_flip_left_right(image)
        return image, label

    def prepare(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images = tf.cast(images, tf.float32) / 255.0
        if resize:
            images = tf.image.resize(images, resize)
        return (images - norm.mean) / norm.std, labels

    # Per image only what must differ per image (random crop and flip); casting, resizing
    # and normalizing run once per batch, vectorized: per-element maps cost Python-free
    # but real time, which a small model's training step notices (benchmarks/pipeline.py).
    train = tf.data.Dataset.from_tensor_slices((data.train_images, data.train_labels)).shuffle(
        len(data.train_labels), seed=config.seed, reshuffle_each_iteration=True
    )
    if crop or flip:
        train = train.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    train = (
        train.batch(global_batch, drop_remainder=True)
        .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(_options())
    )
    test = (
        tf.data.Dataset.from_tensor_slices((data.test_images, data.test_labels))
        .batch(global_batch)  # every test image; tf.distribute splits a short last batch
        .map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(_options())
    )
    return train, test
