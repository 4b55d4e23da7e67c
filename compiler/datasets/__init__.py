"""Datasets for `netspec train`: where each is looked for, and one entry point.

Search order: the user's `--data-dir`, then system locations (Debian's
dataset-fashion-mnist), then the Keras cache (~/.keras/datasets), then a download where
a network exists.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from compiler.datasets.arrays import ArrayDataset
from compiler.datasets.cifar import candidates, load_cifar
from compiler.datasets.errors import DatasetError
from compiler.datasets.files import StreamedDataset
from compiler.datasets.folder import load_folder
from compiler.datasets.idx import FASHION_CLASSES, MNIST_CLASSES, has_idx_files, load_idx_folder
from compiler.datasets.synthetic import synthetic
from compiler.datasets.tfrecord import load_tfrecord, pack_folder

__all__ = [
    "ArrayDataset",
    "DatasetError",
    "StreamedDataset",
    "keras_cache",
    "load_dataset",
    "pack_folder",
]

SYSTEM_FOLDERS = {"fashion_mnist": [Path("/usr/share/datasets/fashion-mnist")]}
CACHE_FOLDERS = {"fashion_mnist": "fashion-mnist", "mnist": "mnist"}
CIFAR_URLS = {
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
    "cifar100": "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
}
HOW_TO_GET = {
    "fashion_mnist": "apt-get install dataset-fashion-mnist, or put the four IDX files in "
    "--data-dir",
    "mnist": "put the four IDX files (train-images-idx3-ubyte.gz, ...) in --data-dir",
    "cifar10": "download cifar-10-python.tar.gz from https://www.cs.toronto.edu/~kriz/"
    "cifar.html into --data-dir",
    "cifar100": "download cifar-100-python.tar.gz from https://www.cs.toronto.edu/~kriz/"
    "cifar.html into --data-dir",
}


def keras_cache() -> Path:
    return Path.home() / ".keras" / "datasets"


def _idx(name: str, data_dir: Path | None) -> ArrayDataset:
    classes = FASHION_CLASSES if name == "fashion_mnist" else MNIST_CLASSES
    places = ([data_dir] if data_dir else []) + SYSTEM_FOLDERS.get(name, [])
    places.append(keras_cache() / CACHE_FOLDERS[name])
    for folder in places:
        if has_idx_files(folder):
            return load_idx_folder(folder, classes)
    cached = keras_cache() / "mnist.npz"
    if name == "mnist" and cached.is_file():
        with np.load(cached, allow_pickle=False) as data:
            return ArrayDataset(
                data["x_train"][..., None],
                data["y_train"].astype(np.int32),
                data["x_test"][..., None],
                data["y_test"].astype(np.int32),
                classes,
            )
    raise _not_found(name, [*map(str, places), *([str(cached)] if name == "mnist" else [])])


def _download_cifar(name: str) -> Path:
    import keras

    try:
        path = keras.utils.get_file(origin=CIFAR_URLS[name], cache_subdir="datasets")
    except Exception as exc:  # no network, proxy refusal, ...: say where we looked instead
        raise DatasetError(f"download failed: {exc}") from None
    return Path(path)


def _cifar(name: str, data_dir: Path | None) -> ArrayDataset:
    places = [
        p for d in ([data_dir] if data_dir else []) + [keras_cache()] for p in candidates(name, d)
    ]
    for path in places:
        if path.exists():
            return load_cifar(name, path)
    try:
        return load_cifar(name, _download_cifar(name))
    except DatasetError as exc:
        raise _not_found(name, [*map(str, places), f"a download ({exc})"]) from None


def _not_found(name: str, places: list[str]) -> DatasetError:
    looked = "\n  ".join(places)
    return DatasetError(
        f"no {name} dataset found; looked in:\n  {looked}\nto get it: {HOW_TO_GET[name]}"
    )


def load_dataset(
    name: str,
    *,
    path: str | None = None,
    data_dir: str | Path | None = None,
    image_size: tuple[int, int, int] | None = None,
    classes: int = 10,
    seed: int = 0,
) -> ArrayDataset | StreamedDataset:
    """`classes` sizes the synthetic dataset to the network; real datasets have their own.
    Folders and TFRecord shards are listed here and decoded to `image_size` as they stream."""
    directory = Path(data_dir) if data_dir else None
    if name in ("fashion_mnist", "mnist"):
        return _idx(name, directory)
    if name in ("cifar10", "cifar100"):
        return _cifar(name, directory)
    if name in ("folder", "tfrecord"):
        if path is None or image_size is None:
            raise DatasetError(f"a {name} dataset needs a path and the network's input size")
        if name == "folder":
            return load_folder(Path(path), image_size, seed)
        return load_tfrecord(Path(path), image_size)
    if name == "synthetic":
        if image_size is None:
            raise DatasetError("synthetic data needs the network's input size")
        return synthetic(image_size, seed=seed, classes=classes)
    raise DatasetError(f"unknown dataset '{name}'")
