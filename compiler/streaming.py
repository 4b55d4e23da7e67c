"""tf.data pipelines that stream a folder of images or TFRecord shards from disk.

Files are listed up front; reading and decoding run in parallel inside the pipeline, so
memory holds a few batches, not the dataset. Decoded images are cached in memory only
when all of them fit in `CACHE_BYTES` and no random crop needs the original pixels.

A file that cannot be read or decoded stops training with its path: each image is decoded
in a one-element dataset whose errors are caught (`ignore_errors`) and replaced by a
marker that a later step asserts on, with the path in the assertion's message.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf

from compiler.augment import (
    Window,
    center_window,
    decode_window,
    distort,
    random_window,
    to_pixels,
    whole_window,
)
from compiler.datasets import DatasetError, StreamedDataset
from compiler.datasets.files import FileSplit
from compiler.normalization import Normalization
from netspec.ir import TrainConfig

CACHE_BYTES = 512 * 1024 * 1024
SHUFFLE_BYTES = 64 * 1024 * 1024  # of encoded records, for TFRecord shards
MIN_SHUFFLE_RECORDS = 256
NORMALIZATION_SAMPLE = 512  # training images the mean and deviation are measured on
READ_CYCLE = 8  # shards read at once
UNREADABLE = "netspec-unreadable-image"
_UNREADABLE_PATH = re.compile(rf"\[{UNREADABLE}\] \[(.*?)\]")

# (source, label, name): the file path or encoded bytes, the class, the path to blame
Element = tuple[tf.Tensor, tf.Tensor, tf.Tensor]
Decode = Callable[[tf.Tensor], tf.Tensor]  # encoded bytes -> uint8 (H, W, C)


@contextlib.contextmanager
def naming_unreadable_images() -> Iterator[None]:
    """Turns the pipeline's assertion about an undecodable file into a DatasetError."""
    try:
        yield
    except tf.errors.InvalidArgumentError as exc:
        found = _UNREADABLE_PATH.search(exc.message)
        if found is None:
            raise
        raise DatasetError(
            f"cannot decode image {found.group(1)}: not a readable JPEG, PNG, BMP or GIF "
            "file (or truncated)"
        ) from None


def input_shard(strategy: tf.distribute.Strategy) -> tuple[int, int]:
    """(workers, this worker's index) under multi-worker training, else (1, 0)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 1, 0
    cluster = resolver.cluster_spec().as_dict()
    tasks = [("chief", i) for i in range(len(cluster.get("chief", [])))]
    tasks += [("worker", i) for i in range(len(cluster.get("worker", [])))]
    return len(tasks), tasks.index((resolver.task_type, resolver.task_id))


def _checked(decode: Decode, read: bool) -> Callable[..., tf.data.Dataset]:
    """One element per image: its pixels, or a failure that names the file."""

    def decoded(source: tf.Tensor, label: tf.Tensor, name: tf.Tensor) -> tf.data.Dataset:
        def attempt(source: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            return decode(tf.io.read_file(source) if read else source), tf.constant(True)

        image = tf.data.Dataset.from_tensors(source).map(attempt).ignore_errors()
        spec = image.element_spec[0]
        failed = tf.data.Dataset.from_tensors(
            (tf.zeros([d or 1 for d in spec.shape], tf.uint8), tf.constant(False))
        )
        return image.concatenate(failed).take(1).map(lambda pixels, ok: (pixels, ok, label, name))

    return decoded


def _assert_read(
    pixels: tf.Tensor, ok: tf.Tensor, label: tf.Tensor, name: tf.Tensor
) -> tuple[tf.Tensor, tf.Tensor]:
    with tf.control_dependencies([tf.debugging.Assert(ok, [UNREADABLE, name])]):
        return tf.identity(pixels), label


def _decoded(
    elements: tf.data.Dataset, decode: Decode, read: bool, deterministic: bool
) -> tf.data.Dataset:
    return elements.interleave(
        _checked(decode, read),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=deterministic,
    ).map(_assert_read, num_parallel_calls=tf.data.AUTOTUNE)


def _resized(size: tuple[int, int], channels: int, window: Window) -> Decode:
    def decode(encoded: tf.Tensor) -> tf.Tensor:
        image = tf.image.resize(decode_window(encoded, window), size)
        return to_pixels(image, channels)

    return decode


def _inception_crop(size: tuple[int, int], channels: int, photometric: bool) -> Decode:
    def decode(encoded: tf.Tensor) -> tf.Tensor:
        image = tf.image.resize(decode_window(encoded, random_window), size)
        image = tf.image.random_flip_left_right(image)
        if photometric:
            image = distort(image)
        return to_pixels(image, channels)

    return decode


def eval_decode(data: StreamedDataset, config: TrainConfig) -> Decode:
    return evaluation_decode(data.image_shape, config.eval_crop)


def evaluation_decode(shape: tuple[int, int, int], eval_crop: float | None) -> Decode:
    """Encoded image -> uint8 pixels of `shape`, as evaluation sees them (and prediction)."""
    height, width, channels = shape
    window = center_window((height, width), eval_crop) if eval_crop else None
    return _resized((height, width), channels, window or whole_window)


class _Source:
    """Where a split's (source, label, name) elements come from."""

    def __init__(self, data: StreamedDataset, split: FileSplit) -> None:
        self.kind = data.kind
        self.split = split

    @property
    def reads_files(self) -> bool:
        return self.kind == "folder"

    def listing(self) -> tf.data.Dataset:
        """Folder: one element per image; TFRecord: one per shard."""
        if self.kind == "folder":
            return tf.data.Dataset.from_tensor_slices(
                (list(self.split.sources), np.array(self.split.labels, np.int32))
            )
        return tf.data.Dataset.from_tensor_slices(list(self.split.sources))

    def records(self, listing: tf.data.Dataset, deterministic: bool) -> tf.data.Dataset:
        if self.kind == "folder":
            return listing.map(lambda path, label: (path, label, path))
        return listing.interleave(
            tf.data.TFRecordDataset,
            cycle_length=min(READ_CYCLE, len(self.split.sources)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=deterministic,
        ).map(_parse, num_parallel_calls=tf.data.AUTOTUNE)

    def shuffle_records(self) -> int:
        mean_record = self.split.encoded_bytes / max(self.split.count, 1)
        buffer = int(SHUFFLE_BYTES / max(mean_record, 1))
        return max(MIN_SHUFFLE_RECORDS, min(buffer, self.split.count))


def _parse(record: tf.Tensor) -> Element:
    features = tf.io.parse_single_example(
        record,
        {
            "image": tf.io.FixedLenFeature([], tf.string),
            "label": tf.io.FixedLenFeature([], tf.int64),
            "source": tf.io.FixedLenFeature([], tf.string, default_value=""),
        },
    )
    return features["image"], tf.cast(features["label"], tf.int32), features["source"]


def fits_in_cache(data: StreamedDataset, split: FileSplit) -> bool:
    height, width, channels = data.image_shape
    return split.count * height * width * channels <= CACHE_BYTES


def _options(policy: tf.data.experimental.AutoShardPolicy) -> tf.data.Options:
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = policy
    return options


def _worker_records(
    source: _Source, shard: tuple[int, int], shuffle_seed: int | None
) -> tf.data.Dataset:
    """This worker's files (or, with fewer shards than workers, its records); with a seed,
    reshuffled every epoch and repeated: the runner takes a fixed number of steps."""
    workers, index = shard
    listing = source.listing()
    by_file = source.reads_files or len(source.split.sources) >= workers
    if by_file:
        listing = listing.shard(workers, index)
    shuffled = shuffle_seed is not None
    if shuffled:
        listing = listing.shuffle(
            len(source.split.sources), seed=shuffle_seed, reshuffle_each_iteration=True
        ).repeat()
    records = source.records(listing, deterministic=not shuffled)
    if not by_file:
        records = records.shard(workers, index)
    if shuffled and not source.reads_files:
        records = records.shuffle(source.shuffle_records(), seed=shuffle_seed)
    return records


def make_streamed_datasets(
    data: StreamedDataset,
    config: TrainConfig,
    global_batch: int,
    norm: Normalization,
    shard: tuple[int, int] = (1, 0),
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    height, width, channels = data.image_shape
    augment = config.augment
    train_source = _Source(data, data.train)
    if augment.inception_crop:
        decode = _inception_crop((height, width), channels, augment.distort)
    else:
        decode = _resized((height, width), channels, whole_window)

    if not augment.inception_crop and fits_in_cache(data, data.train):
        # Decode once into memory, then shuffle and augment the decoded images.
        images = _decoded(
            _worker_records(train_source, shard, shuffle_seed=None),
            decode,
            train_source.reads_files,
            deterministic=True,
        ).cache()
        train = images.shuffle(data.train.count, seed=config.seed).repeat()
    else:
        train = _decoded(
            _worker_records(train_source, shard, shuffle_seed=config.seed),
            decode,
            train_source.reads_files,
            deterministic=False,
        )
    train = _light_augment(train, config, (height, width, channels))
    train = (
        train.batch(global_batch, drop_remainder=True)
        .map(lambda x, y: (norm.apply(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        .with_options(_options(tf.data.experimental.AutoShardPolicy.OFF))
    )
    test_source = _Source(data, data.test)
    test = _decoded(
        test_source.records(test_source.listing(), deterministic=True),
        eval_decode(data, config),
        test_source.reads_files,
        deterministic=True,
    )
    if fits_in_cache(data, data.test):
        test = test.cache()
    test = (
        test.batch(global_batch)
        .map(lambda x, y: (norm.apply(x), y), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
        # Every worker reads the test set and keeps its share: each image is counted once.
        .with_options(_options(tf.data.experimental.AutoShardPolicy.DATA))
    )
    return train, test


def _light_augment(
    images: tf.data.Dataset, config: TrainConfig, shape: tuple[int, int, int]
) -> tf.data.Dataset:
    """`crop=N` and `flip` on images already at the input size (CIFAR-style)."""
    crop, flip = config.augment.crop, config.augment.flip and not config.augment.inception_crop
    if not (crop or flip):
        return images
    height, width, _ = shape

    def augment(image: tf.Tensor, label: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        if crop:
            image = tf.image.resize_with_crop_or_pad(image, height + 2 * crop, width + 2 * crop)
            image = tf.image.random_crop(image, shape)
        if flip:
            image = tf.image.random_flip_left_right(image)
        return image, label

    return images.map(augment, num_parallel_calls=tf.data.AUTOTUNE)


def streamed_normalization(data: StreamedDataset, config: TrainConfig) -> Normalization:
    """Measured on up to NORMALIZATION_SAMPLE training images, preprocessed as for
    evaluation: the folder's are a seeded random sample, packed shards are shuffled."""
    source = _Source(data, data.train)
    listing = source.listing()
    if source.reads_files:
        listing = listing.shuffle(data.train.count, seed=config.seed)
    records = source.records(listing, deterministic=True).take(NORMALIZATION_SAMPLE)
    images = _decoded(records, eval_decode(data, config), source.reads_files, True)
    with naming_unreadable_images():
        pixels = np.concatenate([batch.numpy() for batch, _ in images.batch(64)])
    return Normalization.of(pixels)
