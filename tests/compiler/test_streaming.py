"""Folders and TFRecord shards streamed through tf.data: listing, decoding every format to
the spec's channels, undecodable files named, packing round trips, crops, worker shards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from compiler.datasets import DatasetError, StreamedDataset, load_dataset
from compiler.datasets.tfrecord import pack_folder
from compiler.pipeline import make_datasets, normalization
from compiler.streaming import naming_unreadable_images
from netspec.ir import TrainConfig
from netspec.ir.training import AugmentConfig

pytestmark = pytest.mark.keras

# (format, PIL mode, suffix): every kind of file the loader must turn into RGB or gray.
KINDS = [
    ("JPEG", "CMYK", "jpg"),
    ("JPEG", "L", "jpeg"),
    ("PNG", "RGBA", "png"),
    ("PNG", "P", "png"),
    ("GIF", "RGB", "gif"),
    ("BMP", "RGB", "bmp"),
]
# One flat colour per class, far apart, so a decoded pixel says which class it came from.
GRAYS = (20, 120, 230)


def write_image(path: Path, value: int, mode: str, fmt: str, size: tuple[int, int]) -> None:
    pixels = np.full((size[1], size[0], 3), value, np.uint8)
    # An adaptive palette holds the colour exactly (the default web palette dithers).
    palette = {"palette": Image.Palette.ADAPTIVE} if mode == "P" else {}
    image = Image.fromarray(pixels).convert(mode, **palette)
    image.save(path, fmt, **({"quality": 95} if fmt == "JPEG" else {}))


def make_folder(
    root: Path, per_class: int = 4, splits: tuple[str, ...] = ("train", "test")
) -> Path:
    for split in splits:
        for label, value in enumerate(GRAYS):
            folder = root / split / f"class{label}"
            folder.mkdir(parents=True)
            for index in range(per_class):
                fmt, mode, suffix = KINDS[(index + label) % len(KINDS)]
                write_image(folder / f"{index}.{suffix}", value, mode, fmt, (20 + index, 14))
    return root


def streamed(
    root: Path, name: str = "folder", size: tuple[int, int, int] = (8, 8, 3)
) -> StreamedDataset:
    data = load_dataset(name, path=str(root), image_size=size)
    assert isinstance(data, StreamedDataset)
    return data


def pixels_and_labels(dataset: object) -> tuple[np.ndarray, np.ndarray]:
    images, labels = zip(*((x.numpy(), y.numpy()) for x, y in dataset), strict=True)
    return np.concatenate(images), np.concatenate(labels)


def raw(norm: object) -> Callable[[np.ndarray], np.ndarray]:
    return lambda images: np.rint((images * norm.std + norm.mean) * 255)  # type: ignore[attr-defined]


@pytest.mark.parametrize("channels", [3, 1])
def test_every_format_decodes_to_the_spec_channels(tmp_path: Path, channels: int) -> None:
    data = streamed(make_folder(tmp_path), size=(8, 8, channels))
    assert data.class_names == ("class0", "class1", "class2")
    assert (data.train.count, data.test.count) == (12, 12)
    config = TrainConfig()
    norm = normalization(data, config)
    _, test = make_datasets(data, config, 5, norm)
    images, labels = pixels_and_labels(test)
    assert images.shape == (12, 8, 8, channels)
    pixels = raw(norm)(images)
    for label, value in enumerate(GRAYS):
        # JPEG (and CMYK's round trip) is lossy; the classes are 100 levels apart.
        assert np.abs(pixels[labels == label] - value).max() <= 6


def test_a_folder_without_splits_holds_out_a_tenth_per_class(tmp_path: Path) -> None:
    data = streamed(make_folder(tmp_path, per_class=10, splits=("",)))
    assert (data.train.count, data.test.count) == (27, 3)
    assert not set(data.train.sources) & set(data.test.sources)


def test_the_training_stream_is_shuffled_batched_and_repeats(tmp_path: Path) -> None:
    data = streamed(make_folder(tmp_path))
    train, _ = make_datasets(data, TrainConfig(), 4)
    labels = [y.numpy() for _, y in train.take(9)]  # 36 images from 12: it repeats
    assert all(batch.shape == (4,) for batch in labels)
    assert np.bincount(np.concatenate(labels[:3]), minlength=3).tolist() == [4, 4, 4]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"\x89PNG\r\n\x1a\n and then nothing", "truncated.png"),
        (b"plain text, not a picture", "notes.jpg"),
        (b"", "empty.gif"),
    ],
)
@pytest.mark.parametrize("kind", ["folder", "tfrecord"])
def test_an_undecodable_file_is_named(tmp_path: Path, content: bytes, name: str, kind: str) -> None:
    root = make_folder(tmp_path / "images")
    (root / "train" / "class1" / name).write_bytes(content)
    if kind == "tfrecord":  # packed as it is; the record keeps the file's path
        pack_folder(root, tmp_path / "shards", shards=2)
        root = tmp_path / "shards"
    data = streamed(root, kind)
    config = TrainConfig(augment=AugmentConfig(inception_crop=True))
    decoding = naming_unreadable_images()
    with pytest.raises(DatasetError, match=rf"cannot decode image .*class1/{name}"), decoding:
        norm = normalization(data, config)
        train, _ = make_datasets(data, config, 4, norm)
        for _ in train.take(8):
            pass


def test_a_missing_folder_or_empty_class_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        streamed(tmp_path / "nowhere")
    (tmp_path / "train" / "cat").mkdir(parents=True)
    (tmp_path / "test" / "cat").mkdir(parents=True)
    with pytest.raises(DatasetError, match="holds no images"):
        streamed(tmp_path)


def test_pack_then_read_gives_the_same_labels_and_pixels(tmp_path: Path) -> None:
    root = make_folder(tmp_path / "images", per_class=5)
    packed = pack_folder(root, tmp_path / "shards", shards=3)
    assert packed.shards == {"train": 3, "test": 3}
    assert len(list((tmp_path / "shards").glob("train-*-of-00003.tfrecord"))) == 3
    folder, shards = streamed(root), streamed(tmp_path / "shards", "tfrecord")
    assert shards.class_names == folder.class_names
    assert (shards.train.count, shards.test.count) == (15, 15)
    config = TrainConfig()
    norm = normalization(folder, config)
    for data in (folder, shards):
        _, test = make_datasets(data, config, 4, norm)
        images, labels = pixels_and_labels(test)
        order = np.lexsort((images.reshape(len(images), -1).sum(axis=1), labels))
        if data is folder:
            expected = (images[order], labels[order])
        else:
            np.testing.assert_array_equal(labels[order], expected[1])
            np.testing.assert_array_equal(images[order], expected[0])
    with pytest.raises(DatasetError, match="already holds"):
        pack_folder(root, tmp_path / "shards")


def test_a_packed_folder_needs_its_index(tmp_path: Path) -> None:
    (tmp_path / "shards").mkdir()
    with pytest.raises(DatasetError, match=r"classes\.json is missing"):
        streamed(tmp_path / "shards", "tfrecord")


@pytest.mark.parametrize("kind", ["folder", "tfrecord"])
def test_workers_train_on_disjoint_shares(tmp_path: Path, kind: str) -> None:
    root = tmp_path / "images"
    for split in ("train", "test"):
        for label in range(2):
            (root / split / f"c{label}").mkdir(parents=True)
            for index in range(12):  # every image its own gray level
                value = 10 * (12 * label + index)
                write_image(root / split / f"c{label}" / f"{index}.png", value, "L", "PNG", (4, 4))
    if kind == "tfrecord":
        pack_folder(root, tmp_path / "shards", shards=4)
        root = tmp_path / "shards"
    data = streamed(root, kind, size=(4, 4, 1))
    config = TrainConfig()
    norm = normalization(data, config)
    seen = []
    for worker in range(2):
        train, _ = make_datasets(data, config, 4, norm, shard=(2, worker))
        images = raw(norm)(np.concatenate([x.numpy() for x, _ in train.take(3)]))
        seen.append({int(image.flat[0]) for image in images})
    assert not seen[0] & seen[1]
    if kind == "folder":  # one pass of each worker's half, before it repeats
        assert seen[0] | seen[1] == {10 * i for i in range(24)}


def test_inception_crop_varies_and_keeps_the_input_size(tmp_path: Path) -> None:
    root = tmp_path / "images"
    for split in ("train", "test"):
        (root / split / "a").mkdir(parents=True)
        # Left half black, right half white: crops differ in how much of each they hold.
        pixels = np.zeros((60, 80, 3), np.uint8)
        pixels[:, 40:] = 255
        Image.fromarray(pixels).save(root / split / "a" / "0.png")
    data = streamed(root, size=(16, 16, 3))
    config = TrainConfig(augment=AugmentConfig(inception_crop=True), eval_crop=0.875)
    norm = normalization(data, config)
    train, _ = make_datasets(data, config, 1, norm)
    crops = np.concatenate([x.numpy() for x, _ in train.take(20)])
    assert crops.shape == (20, 16, 16, 3)
    assert len({round(float(c.mean()), 3) for c in crops}) > 5


def test_evaluation_crops_the_centre(tmp_path: Path) -> None:
    root = tmp_path / "images"
    for split in ("train", "test"):
        (root / split / "a").mkdir(parents=True)
        # A 100x100 white square with a 20-pixel black frame: the centre 50% is all white.
        pixels = np.zeros((100, 100, 3), np.uint8)
        pixels[20:80, 20:80] = 255
        Image.fromarray(pixels).save(root / split / "a" / "0.png")
    data = streamed(root, size=(10, 10, 3))
    for crop, whole in ((0.5, False), (None, True)):
        config = TrainConfig(eval_crop=crop)
        norm = normalization(data, config)
        _, test = make_datasets(data, config, 1, norm)
        (image,) = raw(norm)(pixels_and_labels(test)[0])
        assert (image.min() < 10) == whole
