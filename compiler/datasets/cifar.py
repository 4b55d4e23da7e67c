"""CIFAR-10 and CIFAR-100 from the standard archives: python or binary version, as a
.tar.gz or extracted."""

from __future__ import annotations

import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from compiler.datasets.arrays import ArrayDataset
from compiler.datasets.errors import DatasetError
from compiler.datasets.safe_pickle import load_restricted

PIXELS = 3 * 32 * 32

# name -> (python folder, binary folder, archive stems)
LAYOUTS = {
    "cifar10": (
        "cifar-10-batches-py",
        "cifar-10-batches-bin",
        ("cifar-10-python.tar.gz", "cifar-10-binary.tar.gz"),
    ),
    "cifar100": (
        "cifar-100-python",
        "cifar-100-binary",
        ("cifar-100-python.tar.gz", "cifar-100-binary.tar.gz"),
    ),
}
PYTHON_FILES = {
    "cifar10": (
        [f"data_batch_{i}" for i in range(1, 6)],
        ["test_batch"],
        "batches.meta",
        b"labels",
        b"label_names",
    ),
    "cifar100": (["train"], ["test"], "meta", b"fine_labels", b"fine_label_names"),
}
BINARY_FILES = {
    # train files, test files, label names file, bytes of labels before the pixels
    "cifar10": (
        [f"data_batch_{i}.bin" for i in range(1, 6)],
        ["test_batch.bin"],
        "batches.meta.txt",
        1,
    ),
    "cifar100": (["train.bin"], ["test.bin"], "fine_label_names.txt", 2),
}

Reader = Callable[[str], bytes]


def _to_images(flat: np.ndarray, source: str) -> np.ndarray:
    if flat.ndim != 2 or flat.shape[1] != PIXELS:
        raise DatasetError(f"{source}: expected rows of {PIXELS} pixels, got {flat.shape}")
    # Stored planar: 1024 red, 1024 green, 1024 blue values per image.
    return flat.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.uint8)


def _python_split(
    read: Reader, files: list[str], labels_key: bytes
) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    for name in files:
        batch = load_restricted(read(name), name)
        if not isinstance(batch, dict):
            raise DatasetError(f"{name} is not a CIFAR batch")
        batch = {
            key.encode() if isinstance(key, str) else key: value for key, value in batch.items()
        }
        if b"data" not in batch or labels_key not in batch:
            raise DatasetError(f"{name} lacks data or {labels_key.decode()}")
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        images.append(_to_images(data, name))
        labels.append(np.asarray(batch[labels_key], dtype=np.int32))
        if len(labels[-1]) != len(images[-1]):
            raise DatasetError(f"{name}: {len(images[-1])} images but {len(labels[-1])} labels")
    return np.concatenate(images), np.concatenate(labels)


def _read_python(name: str, read: Reader) -> ArrayDataset:
    train_files, test_files, meta_file, labels_key, names_key = PYTHON_FILES[name]
    meta = load_restricted(read(meta_file), meta_file)
    class_names = tuple(
        n.decode() if isinstance(n, bytes) else str(n)
        for n in meta.get(names_key, meta.get(names_key.decode(), []))
    )
    train = _python_split(read, train_files, labels_key)
    test = _python_split(read, test_files, labels_key)
    return _checked(ArrayDataset(*train, *test, class_names), name)


def _binary_split(
    read: Reader, files: list[str], label_bytes: int
) -> tuple[np.ndarray, np.ndarray]:
    images, labels = [], []
    record = label_bytes + PIXELS
    for name in files:
        raw = np.frombuffer(read(name), dtype=np.uint8)
        if raw.size % record:
            raise DatasetError(f"{name}: its size is not a whole number of {record}-byte records")
        rows = raw.reshape(-1, record)
        labels.append(rows[:, label_bytes - 1].astype(np.int32))  # the fine label is last
        images.append(_to_images(rows[:, label_bytes:], name))
    return np.concatenate(images), np.concatenate(labels)


def _read_binary(name: str, read: Reader) -> ArrayDataset:
    train_files, test_files, names_file, label_bytes = BINARY_FILES[name]
    class_names = tuple(
        line.strip() for line in read(names_file).decode().splitlines() if line.strip()
    )
    train = _binary_split(read, train_files, label_bytes)
    test = _binary_split(read, test_files, label_bytes)
    return _checked(ArrayDataset(*train, *test, class_names), name)


def _checked(dataset: ArrayDataset, name: str) -> ArrayDataset:
    classes = 10 if name == "cifar10" else 100
    if len(dataset.class_names) != classes:
        raise DatasetError(f"{name}: found {len(dataset.class_names)} class names, not {classes}")
    for labels in (dataset.train_labels, dataset.test_labels):
        if labels.size and (labels.min() < 0 or labels.max() >= classes):
            raise DatasetError(f"{name}: labels outside 0..{classes - 1}")
    return dataset


def _folder_reader(folder: Path) -> Reader:
    def read(member: str) -> bytes:
        try:
            return (folder / member).read_bytes()
        except OSError:
            raise DatasetError(f"{folder / member} is missing") from None

    return read


def _archive_reader(archive: tarfile.TarFile, top: str, path: Path) -> Reader:
    def read(member: str) -> bytes:
        try:
            stream = archive.extractfile(f"{top}/{member}")
            if stream is None:
                raise KeyError(member)
            return stream.read()
        except (KeyError, tarfile.TarError, OSError, EOFError):
            raise DatasetError(f"{path} lacks a readable {top}/{member}") from None

    return read


def candidates(name: str, directory: Path) -> list[Path]:
    python_dir, binary_dir, archives = LAYOUTS[name]
    return [directory / python_dir, directory / binary_dir, *(directory / a for a in archives)]


def load_cifar(name: str, path: Path) -> ArrayDataset:
    """`path` is one of `candidates(name, ...)`: an extracted folder or an archive."""
    python_dir, binary_dir, _ = LAYOUTS[name]
    if path.is_dir():
        reader = _read_python if path.name == python_dir else _read_binary
        return reader(name, _folder_reader(path))
    try:
        with tarfile.open(path, "r:gz") as archive:
            is_python = "python" in path.name
            top = python_dir if is_python else binary_dir
            return (_read_python if is_python else _read_binary)(
                name, _archive_reader(archive, top, path)
            )
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DatasetError(f"{path} is not a readable .tar.gz archive: {exc}") from None
