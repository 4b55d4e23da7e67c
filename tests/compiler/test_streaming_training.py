"""Training from streamed files end to end, as a user runs it: Fashion-MNIST written out as
PNG folders (then packed), GoogLeNet on an ImageNet-shaped folder, a broken file named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from netspec.records import read_run_record
from scripts.fashion_mnist_png import SYSTEM_IDX, write_png_folders
from tests.compiler.test_training import metrics, needs_fashion
from tests.compiler.workers import finish, start_workers

pytestmark = [pytest.mark.keras, pytest.mark.slow]


def netspec(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "netspec", *args], capture_output=True, text=True, timeout=900
    )


@needs_fashion
def test_fashion_mnist_pngs_train_through_a_folder_and_through_packed_shards(
    tmp_path: Path,
) -> None:
    # A fifth of the training images, two epochs: about a minute for both runs, measured
    # at 0.833 here. One epoch of all 70,000 (>= 0.85) is a README measurement.
    counts = write_png_folders(SYSTEM_IDX, tmp_path / "png", limit=12_000)
    assert counts == {"train": 12_000, "test": 10_000}
    packed = netspec("data", "pack", str(tmp_path / "png"), "-o", str(tmp_path / "shards"))
    assert packed.returncode == 0, packed.stdout + packed.stderr
    for kind, data_dir in (("folder", "png"), ("tfrecord", "shards")):
        run_dir = tmp_path / f"run-{kind}"
        done = netspec(
            "train",
            "specs/fashion_mnist.ns",
            "--epochs",
            "2",
            "--dataset",
            kind,
            "--data-dir",
            str(tmp_path / data_dir),
            "--out",
            str(run_dir),
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        result = metrics(run_dir)
        assert result.history[-1].val_images == 10_000
        assert result.history[-1].val_accuracy >= 0.80, (kind, result.history[-1])
        record = read_run_record(run_dir)
        assert record.classes[0] == "0-T-shirt_top" and len(record.classes) == 10
        assert record.preprocessing.input == (28, 28, 1)


def test_googlenet_trains_on_an_imagenet_shaped_folder_with_inception_crops(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(0)
    root = tmp_path / "imagenet"
    for index in range(1000):
        wnid = f"n{index:08d}"
        (root / "train" / wnid).mkdir(parents=True)
        pixels = rng.integers(0, 256, (60 + index % 7, 80, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "train" / wnid / f"{wnid}_1.JPEG", "JPEG")
        if index < 4:  # a few validation images keep evaluation through GoogLeNet short
            (root / "val" / wnid).mkdir(parents=True)
            Image.fromarray(pixels).save(root / "val" / wnid / f"{wnid}_val.JPEG", "JPEG")
    run_dir = tmp_path / "run"
    done = netspec(
        "train",
        "specs/googlenet.ns",
        "--data-dir",
        str(root),
        "--dataset",
        "folder",
        "--epochs",
        "1",
        "--batch-size",
        "2",
        "--steps-per-epoch",
        "2",
        "--out",
        str(run_dir),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = metrics(run_dir)
    assert result.optimizer_steps == 2 and result.history[0].val_images == 4
    record = read_run_record(run_dir)
    assert len(record.classes) == 1000 and record.held_out is None  # val/ is the test split
    assert record.preprocessing.center_crop == 0.875
    assert record.preprocessing.input == (224, 224, 3)


def test_a_broken_image_stops_training_with_its_path(tmp_path: Path) -> None:
    for split in ("train", "test"):
        for label in ("a", "b"):
            (tmp_path / "images" / split / label).mkdir(parents=True)
            for index in range(8):
                pixels = np.full((12, 12), 40 + 150 * (label == "b"), np.uint8)
                Image.fromarray(pixels).save(tmp_path / "images" / split / label / f"{index}.png")
    broken = tmp_path / "images" / "train" / "b" / "3.png"
    broken.write_bytes(broken.read_bytes()[:40])  # truncated: the header survives
    spec = tmp_path / "spec.ns"
    spec.write_text(
        "network f\ninput 12x12x1\nclasses 2\nconv 3x3 8\ngap\ndense classes\n"
        f'train:\n  dataset folder "{tmp_path / "images"}"\n  batch 4\n'
    )
    done = netspec("train", str(spec), "--out", str(tmp_path / "run"))
    assert done.returncode == 1, done.stdout[-3000:]
    text = " ".join(done.stdout.split())
    assert f"{spec}:8:3: error[dataset]" in text
    assert f"cannot decode image {broken}" in text
    assert "Traceback" not in done.stderr


def test_two_workers_stream_their_own_files_of_a_folder(tmp_path: Path) -> None:
    for split in ("train", "test"):
        for label in ("a", "b"):
            (tmp_path / "images" / split / label).mkdir(parents=True)
            for index in range(21):  # 42 per split: not a multiple of the batch or workers
                pixels = np.full((12, 12), 40 + 150 * (label == "b") + index, np.uint8)
                Image.fromarray(pixels).save(tmp_path / "images" / split / label / f"{index}.png")
    spec = tmp_path / "spec.ns"
    spec.write_text(
        "network f\ninput 12x12x1\nclasses 2\nconv 3x3 8\ngap\ndense classes\n"
        f'train:\n  dataset folder "{tmp_path / "images"}"\n  batch 8\n  epochs 2\n'
    )
    finish(start_workers((str(spec), "--out", str(tmp_path))))
    result = metrics(tmp_path)
    # 42 // 8 = 5 steps of 8 per epoch, each worker 4 a step from its own 21 files.
    assert result.optimizer_steps == 10 and read_run_record(tmp_path).replicas == 2
    assert [epoch.val_images for epoch in result.history] == [42, 42]
