"""Dataset readers on small archives built here in the exact on-disk formats."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from compiler.datasets import DatasetError, load_dataset
from compiler.datasets.cifar import load_cifar
from compiler.datasets.idx import read_idx
from compiler.datasets.synthetic import synthetic

RNG = np.random.default_rng(0)


def planar_rows(count: int) -> np.ndarray:
    """CIFAR rows: 1024 red, then 1024 green, then 1024 blue values per image."""
    return RNG.integers(0, 256, (count, 3072), dtype=np.uint8)


def as_hwc(rows: np.ndarray) -> np.ndarray:
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def add_member(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def python_batch(rows: np.ndarray, labels: list[int], key: bytes) -> bytes:
    # As the official batches: a Python 2 era dict with bytes keys and a numpy array.
    return pickle.dumps({b"data": rows, key: labels, b"batch_label": b"x"}, protocol=2)


def cifar10_python(tmp: Path, rows: list[np.ndarray], labels: list[list[int]]) -> Path:
    path = tmp / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for index in range(5):
            add_member(
                archive,
                f"cifar-10-batches-py/data_batch_{index + 1}",
                python_batch(rows[index], labels[index], b"labels"),
            )
        add_member(
            archive, "cifar-10-batches-py/test_batch", python_batch(rows[5], labels[5], b"labels")
        )
        meta = {b"label_names": [f"c{i}".encode() for i in range(10)]}
        add_member(archive, "cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=2))
    return path


def test_cifar10_python_archive_lands_pixels_in_hwc_order(tmp_path: Path) -> None:
    rows = [planar_rows(2) for _ in range(6)]
    labels = [[i % 10, (i + 3) % 10] for i in range(6)]
    data = load_cifar("cifar10", cifar10_python(tmp_path, rows, labels))
    assert data.train_images.shape == (10, 32, 32, 3)
    np.testing.assert_array_equal(data.train_images[:2], as_hwc(rows[0]))
    np.testing.assert_array_equal(data.test_images, as_hwc(rows[5]))
    # Pixel (row 0, col 1) of image 0 is element 1 of the red plane, 1025 of the green one.
    assert tuple(data.train_images[0, 0, 1]) == tuple(rows[0][0, [1, 1025, 2049]])
    assert list(data.train_labels[:4]) == [0, 3, 1, 4]
    assert data.class_names[3] == "c3"


def test_cifar100_binary_folder_reads_the_fine_label(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    rows = planar_rows(3)
    coarse, fine = np.array([1, 2, 3], np.uint8), np.array([42, 0, 99], np.uint8)
    records = np.concatenate([coarse[:, None], fine[:, None], rows], axis=1)
    (folder / "train.bin").write_bytes(records.tobytes())
    (folder / "test.bin").write_bytes(records[:1].tobytes())
    (folder / "fine_label_names.txt").write_text("\n".join(f"n{i}" for i in range(100)))
    data = load_cifar("cifar100", folder)
    assert list(data.train_labels) == [42, 0, 99]
    np.testing.assert_array_equal(data.train_images, as_hwc(rows))
    assert data.num_classes == 100


def test_cifar10_binary_rejects_a_partial_record(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        (folder / name).write_bytes(bytes(3073 * 2 - 5))
    (folder / "batches.meta.txt").write_text("\n".join(f"c{i}" for i in range(10)))
    with pytest.raises(DatasetError, match=r"data_batch_1\.bin.*whole number of 3073-byte"):
        load_cifar("cifar10", folder)


class RunsCode:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_runs_code_is_refused_and_does_not_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "batches.meta").write_bytes(pickle.dumps(RunsCode(str(marker)), protocol=2))
    with pytest.raises(DatasetError, match=r"refusing to load batches\.meta: it asks to run"):
        load_cifar("cifar10", folder)
    assert not marker.exists()


def test_a_truncated_archive_is_a_dataset_error(tmp_path: Path) -> None:
    path = cifar10_python(tmp_path, [planar_rows(1)] * 6, [[0]] * 6)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DatasetError, match=r"cifar-10-python\.tar\.gz"):
        load_cifar("cifar10", path)


def test_missing_cifar_lists_every_place_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import compiler.datasets as datasets

    monkeypatch.setattr(datasets, "keras_cache", lambda: tmp_path / "cache")

    def no_network(name: str) -> Path:
        raise DatasetError("download failed: no network")

    monkeypatch.setattr(datasets, "_download_cifar", no_network)
    with pytest.raises(DatasetError) as failure:
        load_dataset("cifar100", data_dir=tmp_path / "mine")
    message = str(failure.value)
    assert str(tmp_path / "mine" / "cifar-100-python.tar.gz") in message
    assert str(tmp_path / "cache" / "cifar-100-python") in message
    assert "no network" in message and "--data-dir" in message


def idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx_set(folder: Path, compress: bool) -> tuple[np.ndarray, np.ndarray]:
    folder.mkdir()
    images = RNG.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 1], np.uint8)
    for split in ("train", "t10k"):
        for stem, magic, array in (
            (f"{split}-images-idx3-ubyte", 0x803, images),
            (f"{split}-labels-idx1-ubyte", 0x801, labels),
        ):
            data = idx_bytes(magic, array)
            if compress:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
            else:
                (folder / stem).write_bytes(data)
    return images, labels


@pytest.mark.parametrize("compress", [True, False])
def test_idx_files_gzip_or_plain(tmp_path: Path, compress: bool) -> None:
    images, labels = write_idx_set(tmp_path / "d", compress)
    data = load_dataset("mnist", data_dir=tmp_path / "d")
    np.testing.assert_array_equal(data.train_images[..., 0], images)
    assert list(data.test_labels) == list(labels)
    assert data.train_images.shape == (5, 28, 28, 1)


def test_idx_bad_magic_and_truncation_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(0x801, np.zeros((4, 2, 2))))
    with pytest.raises(DatasetError, match="bad magic"):
        read_idx(path, 0x803)
    path.write_bytes(idx_bytes(0x803, np.zeros((4, 2, 2)))[:-3])
    with pytest.raises(DatasetError, match="truncated"):
        read_idx(path, 0x803)


@pytest.mark.skipif(
    not Path("/usr/share/datasets/fashion-mnist").is_dir(),
    reason="apt-get install dataset-fashion-mnist",
)
def test_the_real_fashion_mnist() -> None:
    data = load_dataset("fashion_mnist")
    assert data.train_images.shape == (60000, 28, 28, 1)
    assert data.test_images.shape == (10000, 28, 28, 1)
    assert sorted(set(data.train_labels.tolist())) == list(range(10))
    assert data.class_names[9] == "Ankle boot"


def test_synthetic_is_deterministic_for_a_seed() -> None:
    first, again = synthetic((8, 8, 3), seed=5), synthetic((8, 8, 3), seed=5)
    np.testing.assert_array_equal(first.train_images, again.train_images)
    assert not np.array_equal(first.train_images, synthetic((8, 8, 3), seed=6).train_images)
