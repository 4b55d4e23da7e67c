"""Image folders: one subfolder per class, with `train/` and `test/` (or `val/`) splits or
without (then 10% of each class, chosen by the seed, is held out)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.datasets.arrays import ArrayDataset
from compiler.datasets.errors import DatasetError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif"}
HELD_OUT = 0.1


def _classes(root: Path) -> list[Path]:
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


def _decode(files: list[Path], image_size: tuple[int, int, int]) -> np.ndarray:
    import tensorflow as tf

    height, width, channels = image_size
    images = np.empty((len(files), height, width, channels), np.uint8)
    for index, path in enumerate(files):
        try:
            image = tf.io.decode_image(
                path.read_bytes(), channels=channels, expand_animations=False
            )
        except (tf.errors.InvalidArgumentError, OSError):
            raise DatasetError(f"cannot decode image {path}") from None
        resized = tf.image.resize(image, (height, width))
        images[index] = np.clip(np.round(resized.numpy()), 0, 255).astype(np.uint8)
    return images


def load_folder(root: Path, image_size: tuple[int, int, int], seed: int) -> ArrayDataset:
    if not root.is_dir():
        raise DatasetError(f"image folder {root} does not exist")
    test_root = next((root / n for n in ("test", "val") if (root / n).is_dir()), None)
    if (root / "train").is_dir() and test_root is not None:
        classes = _classes(root / "train")
        names = tuple(c.name for c in classes)
        train = [(f, i) for i, c in enumerate(classes) for f in _images(c)]
        test = [
            (f, names.index(c.name))
            for c in _classes(test_root)
            if c.name in names
            for f in _images(c)
        ]
    else:
        classes = _classes(root)
        names = tuple(c.name for c in classes)
        rng = np.random.default_rng(seed)
        train, test = [], []
        for index, folder in enumerate(classes):
            files = _images(folder)
            order = rng.permutation(len(files))
            cut = max(1, round(len(files) * HELD_OUT)) if len(files) > 1 else 0
            test += [(files[j], index) for j in order[:cut]]
            train += [(files[j], index) for j in order[cut:]]
    return ArrayDataset(
        train_images=_decode([f for f, _ in train], image_size),
        train_labels=np.array([label for _, label in train], np.int32),
        test_images=_decode([f for f, _ in test], image_size),
        test_labels=np.array([label for _, label in test], np.int32),
        class_names=names,
    )
