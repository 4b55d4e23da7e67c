"""MNIST and Fashion-MNIST from their IDX files (gzip or plain)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from compiler.datasets.arrays import ArrayDataset
from compiler.datasets.errors import DatasetError

FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
MNIST_CLASSES = tuple(str(digit) for digit in range(10))
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# IDX magic: two zero bytes, the element type (0x08: unsigned byte), the number of dims.
MAGIC_IMAGES, MAGIC_LABELS = 0x00000803, 0x00000801


def read_idx(path: Path, magic: int) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            data = stream.read()
    except (OSError, EOFError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from None
    if len(data) < 8 or int.from_bytes(data[:4], "big") != magic:
        raise DatasetError(f"{path} is not an IDX file of the expected kind (bad magic number)")
    dims = magic & 0xFF
    header = 4 + 4 * dims
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    if len(data) != header + int(np.prod(shape)):
        raise DatasetError(f"{path} is truncated or padded: its header promises {shape}")
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_folder(folder: Path, class_names: tuple[str, ...]) -> ArrayDataset:
    paths = {key: _find(folder, stem) for key, stem in FILES.items()}
    missing = [FILES[key] for key, path in paths.items() if path is None]
    if missing:
        raise DatasetError(f"{folder} lacks {', '.join(missing)}")
    arrays = {
        key: read_idx(path, MAGIC_IMAGES if key.endswith("images") else MAGIC_LABELS)
        for key, path in paths.items()
        if path is not None
    }
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if len(images) != len(labels):
            raise DatasetError(f"{folder}: {len(images)} {split} images but {len(labels)} labels")
        if labels.size and labels.max() >= len(class_names):
            raise DatasetError(
                f"{folder}: a {split} label is {labels.max()}, past {len(class_names)} classes"
            )
    return ArrayDataset(
        train_images=arrays["train_images"][..., None],
        train_labels=arrays["train_labels"].astype(np.int32),
        test_images=arrays["test_images"][..., None],
        test_labels=arrays["test_labels"].astype(np.int32),
        class_names=class_names,
    )


def has_idx_files(folder: Path) -> bool:
    return _find(folder, FILES["train_images"]) is not None
