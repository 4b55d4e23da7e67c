"""The tf.data input pipelines: arrays in memory (below) or files streamed from disk
(compiler/streaming.py); both shuffle, augment on the fly, normalize and batch."""

from __future__ import annotations

import tensorflow as tf

from compiler.augment import crop as crop_window
from compiler.augment import distort, random_window
from compiler.datasets import ArrayDataset, StreamedDataset
from compiler.normalization import Normalization
from compiler.streaming import make_streamed_datasets, streamed_normalization
from netspec.ir import TrainConfig
from netspec.records import Preprocessing

__all__ = ["Normalization", "evaluation_preprocessing", "make_datasets", "normalization"]


def _options() -> tf.data.Options:
    options = tf.data.Options()
    # Arrays in memory have no files to shard by: each worker takes its share of elements.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return options


def normalization(data: ArrayDataset | StreamedDataset, config: TrainConfig) -> Normalization:
    if isinstance(data, StreamedDataset):
        return streamed_normalization(data, config)
    return Normalization.of(data.train_images)


def make_datasets(
    data: ArrayDataset | StreamedDataset,
    config: TrainConfig,
    global_batch: int,
    norm: Normalization | None = None,
    shard: tuple[int, int] = (1, 0),
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """`shard` is (workers, this worker): streamed training files are split by it; arrays
    are split by tf.distribute itself."""
    norm = norm or normalization(data, config)
    if isinstance(data, StreamedDataset):
        return make_streamed_datasets(data, config, global_batch, norm, shard)
    return _array_datasets(data, config, global_batch, norm)


def _array_datasets(
    data: ArrayDataset, config: TrainConfig, global_batch: int, norm: Normalization
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    height, width, channels = data.image_shape
    augment_config, resize = config.augment, config.resize

    def augment(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if augment_config.inception_crop:
            image = crop_window(image, random_window(tf.shape(image)))
            image = tf.image.resize(image, (height, width))
            if augment_config.distort and channels == 3:
                image = distort(image)
            image = tf.saturate_cast(tf.round(image), tf.uint8)
        if augment_config.crop:
            pad = augment_config.crop
            image = tf.image.resize_with_crop_or_pad(image, height + 2 * pad, width + 2 * pad)
            image = tf.image.random_crop(image, (height, width, channels))
        if augment_config.flip or augment_config.inception_crop:
            image = tf.image.random_flip_left_right(image)
        return image, label

    def prepare(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images = norm.apply(images)
        if resize:
            images = tf.image.resize(images, resize)
        return images, labels

    def prepare_test(images: tf.Tensor, labels: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if config.eval_crop:
            images = tf.image.resize(
                tf.image.central_crop(images, config.eval_crop), (height, width)
            )
        return prepare(images, labels)

    # Per image only what must differ per image (random crop and flip); casting, resizing
    # and normalizing run once per batch, vectorized: per-element maps cost Python-free
    # but real time, which a small model's training step notices (benchmarks/pipeline.py).
    train = tf.data.Dataset.from_tensor_slices((data.train_images, data.train_labels)).shuffle(
        len(data.train_labels), seed=config.seed, reshuffle_each_iteration=True
    )
    if augment_config.crop or augment_config.flip or augment_config.inception_crop:
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
        .map(prepare_test, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(_options())
    )
    return train, test


def evaluation_preprocessing(
    data: ArrayDataset | StreamedDataset, config: TrainConfig, norm: Normalization
) -> Preprocessing:
    """What a later prediction must do to an image, as data (recorded in the run)."""
    height, width, channels = data.image_shape
    if config.resize and isinstance(data, ArrayDataset):
        height, width = config.resize
    return Preprocessing(
        input=(height, width, channels),
        center_crop=config.eval_crop,
        mean=tuple(norm.mean.tolist()),
        std=tuple(norm.std.tolist()),
    )
