"""Image folders, listed and not decoded: one subfolder per class, with `train/` and `test/`
(or `val/`) splits or without (then 10% of each class, chosen by the seed, is held out).
Decoding happens in the tf.data pipeline (compiler/streaming.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.datasets.errors import DatasetError
from compiler.datasets.files import FileSplit, StreamedDataset

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
HELD_OUT = 0.1

Labelled = list[tuple[Path, int]]


def _class_folders(root: Path) -> list[Path]:
    classes = sorted(p for p in root.iterdir() if p.is_dir())
    if not classes:
        raise DatasetError(f"{root} has no class subfolders (one folder per class)")
    return classes


def _images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise DatasetError(
            f"class folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})"
        )
    return files


def _test_folder(root: Path) -> Path | None:
    """`test/` (or `val/`) beside `train/`, or None: then the seed holds images out."""
    test_root = next((root / n for n in ("test", "val") if (root / n).is_dir()), None)
    return test_root if (root / "train").is_dir() else None


def list_folder(root: Path, seed: int) -> tuple[Labelled, Labelled, tuple[str, ...]]:
    """(train, test, class names): every image file with its class index."""
    if not root.is_dir():
        raise DatasetError(f"image folder {root} does not exist")
    test_root = _test_folder(root)
    if test_root is not None:
        classes = _class_folders(root / "train")
        names = tuple(c.name for c in classes)
        train = [(f, i) for i, c in enumerate(classes) for f in _images(c)]
        test = [
            (f, names.index(c.name))
            for c in _class_folders(test_root)
            if c.name in names
            for f in _images(c)
        ]
        return train, test, names
    classes = _class_folders(root)
    names = tuple(c.name for c in classes)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for index, folder in enumerate(classes):
        files = _images(folder)
        order = rng.permutation(len(files))
        cut = max(1, round(len(files) * HELD_OUT)) if len(files) > 1 else 0
        test += [(files[j], index) for j in order[:cut]]
        train += [(files[j], index) for j in order[cut:]]
    return train, test, names


def file_split(images: Labelled) -> FileSplit:
    return FileSplit(
        sources=tuple(str(path) for path, _ in images),
        labels=tuple(label for _, label in images),
        count=len(images),
        encoded_bytes=0,  # not needed: file names are shuffled, not encoded records
    )


def load_folder(root: Path, image_size: tuple[int, int, int], seed: int) -> StreamedDataset:
    train, test, names = list_folder(root, seed)
    held_out = _test_folder(root) is None
    return StreamedDataset(
        "folder", file_split(train), file_split(test), names, image_size, held_out
    )
