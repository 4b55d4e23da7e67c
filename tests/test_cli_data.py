"""`netspec data pack` through Typer's CliRunner: shards written, bad folders exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from compiler.cli import app
from tests.helpers import flat

pytestmark = pytest.mark.keras
runner = CliRunner()


def test_pack_writes_at_least_eight_shards_and_the_class_index(tmp_path: Path) -> None:
    for label in ("cat", "dog"):
        (tmp_path / "images" / label).mkdir(parents=True)
        for index in range(10):
            pixels = np.full((5, 5, 3), index * 20, np.uint8)
            Image.fromarray(pixels).save(tmp_path / "images" / label / f"{index}.png")
    done = runner.invoke(app, ["data", "pack", str(tmp_path / "images"), "-o", str(tmp_path / "s")])
    assert done.exit_code == 0, done.output
    # No train/test split: 10% of each class is held out, as `dataset folder` does.
    assert "packed 18 training images into 8 shard(s) and 2 test images into 1" in done.output
    index = json.loads((tmp_path / "s" / "classes.json").read_text())
    assert index["classes"] == ["cat", "dog"]
    assert index["splits"]["train"]["images"] == 18
    assert len(list((tmp_path / "s").glob("train-*-of-00008.tfrecord"))) == 8


def test_pack_of_a_missing_folder_exits_1_and_says_so(tmp_path: Path) -> None:
    done = runner.invoke(app, ["data", "pack", str(tmp_path / "nowhere"), "-o", str(tmp_path)])
    assert done.exit_code == 1
    assert "does not exist" in done.output


def test_pack_needs_an_output() -> None:
    done = runner.invoke(app, ["data", "pack", "images"])
    assert done.exit_code == 2
    assert "Missing option '-o' / '--output'" in flat(done.output)
