"""TFRecord shards of an image folder: `netspec data pack` writes them, `dataset tfrecord`
reads them. Each record keeps the encoded file as it was (no re-encoding, no loss), its
label and its original path (for error messages); `classes.json` beside the shards holds
the class names and the image counts."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compiler.datasets.errors import DatasetError
from compiler.datasets.files import FileSplit, StreamedDataset
from compiler.datasets.folder import Labelled, list_folder

INDEX = "classes.json"
# TensorFlow's guidance: shards of 100 MB or more, and enough of them to read several at
# once and to give each of a few workers its own files.
SHARD_BYTES = 128 * 1024 * 1024
MIN_SHARDS = 8
FEATURES = {"image": "bytes", "label": "int64", "source": "bytes"}


@dataclass(frozen=True)
class Packed:
    directory: Path
    images: dict[str, int]
    shards: dict[str, int]


def shard_name(split: str, index: int, total: int) -> str:
    return f"{split}-{index:05d}-of-{total:05d}.tfrecord"


def _example(data: bytes, label: int, source: str) -> bytes:
    import tensorflow as tf

    feature = {
        "image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
        "label": tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        "source": tf.train.Feature(bytes_list=tf.train.BytesList(value=[source.encode()])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _write_split(images: Labelled, directory: Path, split: str, shards: int) -> list[str]:
    import tensorflow as tf

    names = [shard_name(split, i, shards) for i in range(shards)]
    writers = [tf.io.TFRecordWriter(str(directory / name)) for name in names]
    try:
        # Round-robin over images already shuffled: every shard is a sample of every class.
        for index, (path, label) in enumerate(images):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise DatasetError(f"cannot read {path}: {exc.strerror}") from None
            writers[index % shards].write(_example(data, label, str(path)))
    finally:
        for writer in writers:
            writer.close()
    return names


def _shard_count(images: Labelled, shards: int | None) -> int:
    if shards is None:
        total = sum(path.stat().st_size for path, _ in images)
        shards = max(MIN_SHARDS, math.ceil(total / SHARD_BYTES))
    return max(1, min(shards, len(images)))


def pack_folder(folder: Path, output: Path, shards: int | None = None, seed: int = 0) -> Packed:
    """Shards for the training split (`shards`, or about 128 MB each and at least
    MIN_SHARDS) and, in proportion, for the test split."""
    train, test, names = list_folder(folder, seed)
    rng = np.random.default_rng(seed)
    train = [train[i] for i in rng.permutation(len(train))]
    output.mkdir(parents=True, exist_ok=True)
    if any(output.glob("*.tfrecord")):
        raise DatasetError(f"{output} already holds .tfrecord shards: pack into an empty folder")
    train_shards = _shard_count(train, shards)
    test_shards = max(1, round(train_shards * len(test) / max(len(train), 1)))
    splits = {}
    for split, images, count in (("train", train, train_shards), ("test", test, test_shards)):
        splits[split] = {
            "images": len(images),
            "shards": _write_split(images, output, split, count),
        }
    index = {"classes": list(names), "source": str(folder), "splits": splits, "features": FEATURES}
    (output / INDEX).write_text(json.dumps(index, indent=2))
    return Packed(
        output,
        {split: len(images) for split, images in (("train", train), ("test", test))},
        {"train": train_shards, "test": test_shards},
    )


def _read_index(directory: Path) -> dict[str, Any]:
    path = directory / INDEX
    if not path.is_file():
        raise DatasetError(
            f"{path} is missing: a tfrecord dataset is a folder written by `netspec data pack`"
        )
    try:
        index = json.loads(path.read_text())
        return {
            "classes": tuple(str(name) for name in index["classes"]),
            "splits": {
                split: (
                    int(index["splits"][split]["images"]),
                    list(index["splits"][split]["shards"]),
                )
                for split in ("train", "test")
            },
        }
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(
            f"{path} is not an index written by `netspec data pack`: {exc}"
        ) from None


def _split(directory: Path, count: int, shards: list[str]) -> FileSplit:
    paths = [directory / name for name in shards]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DatasetError(
            f"{directory / INDEX} lists shards that are missing: {', '.join(missing)}"
        )
    return FileSplit(
        sources=tuple(map(str, paths)),
        labels=(),
        count=count,
        encoded_bytes=sum(p.stat().st_size for p in paths),
    )


def load_tfrecord(directory: Path, image_size: tuple[int, int, int]) -> StreamedDataset:
    if not directory.is_dir():
        raise DatasetError(f"tfrecord folder {directory} does not exist")
    index = _read_index(directory)
    train, test = (_split(directory, *index["splits"][s]) for s in ("train", "test"))
    return StreamedDataset("tfrecord", train, test, index["classes"], image_size)
