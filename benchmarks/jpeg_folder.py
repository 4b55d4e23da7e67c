"""Write a folder of JPEGs in the class-folder layout, for the streaming benchmarks:

    python -m benchmarks.jpeg_folder OUT --images 20000 --size 128 [--classes 10]

Each image is a smooth random gradient with noise (it compresses like a photo, not like
pure noise); `--size` is its height and width. `train/` gets the images, `test/` a tenth.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def photo_like(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    rows = np.linspace(0, 1, height)[:, None, None]
    cols = np.linspace(0, 1, width)[None, :, None]
    base = rng.uniform(0, 255, 3) * rows + rng.uniform(0, 255, 3) * cols
    noise = rng.normal(0, 12, (height, width, 3))
    return np.clip(base / 2 + noise, 0, 255).astype(np.uint8)


def write_jpeg_folder(
    root: Path, images: int, size: tuple[int, int], classes: int = 10, seed: int = 0
) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, count in (("train", images), ("test", max(classes, images // 10))):
        for label in range(classes):
            (root / split / f"class{label:04d}").mkdir(parents=True, exist_ok=True)
        for index in range(count):
            folder = root / split / f"class{index % classes:04d}"
            Image.fromarray(photo_like(rng, *size)).save(folder / f"{index:07d}.jpg", quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--images", type=int, required=True)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--classes", type=int, default=10)
    args = parser.parse_args()
    write_jpeg_folder(args.output, args.images, (args.size, args.size), args.classes)


if __name__ == "__main__":
    main()
