"""Datasets streamed from disk: what is known before the first image is decoded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class FileSplit:
    """Image files with one label each (a folder), or TFRecord shards (labels inside)."""

    sources: tuple[str, ...]
    labels: tuple[int, ...]  # one per image file; empty for shards
    count: int  # images
    encoded_bytes: int  # on disk, encoded: sizes the shuffle buffer of records


@dataclass(frozen=True)
class StreamedDataset:
    """Read from disk as it is consumed: memory does not grow with the number of images."""

    kind: Literal["folder", "tfrecord"]
    train: FileSplit
    test: FileSplit
    class_names: tuple[str, ...]
    # The pipeline decodes every image to the network's input: (height, width, channels).
    image_shape: tuple[int, int, int]
    # The test images were held out of one folder by the seed, not given as a split.
    held_out_by_seed: bool = False

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def train_count(self) -> int:
        return self.train.count

    @property
    def test_count(self) -> int:
        return self.test.count
