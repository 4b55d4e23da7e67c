"""Write Fashion-MNIST's IDX files out as PNG files in class folders, the layout
`dataset folder` and `netspec data pack` read:

    python -m scripts.fashion_mnist_png OUT [--idx /usr/share/datasets/fashion-mnist]
        [--limit N]

gives OUT/train/<label>-<class>/<index>.png (60,000) and OUT/test/... (10,000). The label
prefix keeps the folders in the IDX label order (folders are read in sorted order).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

SYSTEM_IDX = Path("/usr/share/datasets/fashion-mnist")


def class_folder(label: int, name: str) -> str:
    return f"{label}-{name.replace('/', '_')}"


def write_split(
    images: np.ndarray, labels: np.ndarray, folder: Path, names: tuple[str, ...]
) -> None:
    import tensorflow as tf

    for label, name in enumerate(names):
        (folder / class_folder(label, name)).mkdir(parents=True, exist_ok=True)
    # PNG encoding runs in parallel in tf.data; only the file writes are Python.
    encoded = (
        tf.data.Dataset.from_tensor_slices(images)
        .map(tf.io.encode_png, num_parallel_calls=tf.data.AUTOTUNE)
        .as_numpy_iterator()
    )
    for index, (data, label) in enumerate(zip(encoded, labels, strict=True)):
        (folder / class_folder(int(label), names[label]) / f"{index:05d}.png").write_bytes(data)


def write_png_folders(idx_folder: Path, output: Path, limit: int | None = None) -> dict[str, int]:
    """Every image (or the first `limit` of each split); returns the counts written."""
    from compiler.datasets.idx import FASHION_CLASSES, load_idx_folder

    data = load_idx_folder(idx_folder, FASHION_CLASSES)
    counts = {}
    for split, images, labels in (
        ("train", data.train_images, data.train_labels),
        ("test", data.test_images, data.test_labels),
    ):
        images, labels = images[:limit], labels[:limit]
        write_split(images, labels, output / split, FASHION_CLASSES)
        counts[split] = len(labels)
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--idx", type=Path, default=SYSTEM_IDX, help="folder of the IDX files")
    parser.add_argument("--limit", type=int, help="write only the first N of each split")
    args = parser.parse_args(argv)
    counts = write_png_folders(args.idx, args.output, args.limit)
    print(f"wrote {counts['train']:,} training and {counts['test']:,} test PNGs to {args.output}")


if __name__ == "__main__":
    main()
