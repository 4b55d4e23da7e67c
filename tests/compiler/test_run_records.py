"""The run's records in use: `train` parses and analyses its spec once and records what it
used; `evaluate` reads that record, so a run trained with `--seed 7` on a folder without
a test split is scored on exactly the images it held out; a full disk leaves the previous
checkpoint whole."""

from __future__ import annotations

import errno
import json
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tensorflow as tf
from PIL import Image
from typer.testing import CliRunner

import netspec.analysis.analyse
import netspec.lowering
import netspec.syntax.parser
from compiler import evaluation_data
from compiler.cli import app
from compiler.datasets.folder import list_folder
from compiler.run_dir import CheckpointNotSaved, save_checkpoint
from netspec.records import read_run_record

pytestmark = [pytest.mark.keras, pytest.mark.slow]

IMAGES_PER_CLASS = 10
SEED = 7


def image_folder(root: Path, per_class: int, start: int = 0) -> Path:
    """Two classes of 8x8 PNGs, no train/test split: the seed holds 1 in 10 out."""
    for label, name in enumerate(("dark", "light")):
        (root / name).mkdir(parents=True, exist_ok=True)
        for index in range(start, start + per_class):
            shade = 30 + 160 * label + index
            Image.new("RGB", (8, 8), (shade, shade, shade)).save(root / name / f"{index:02d}.png")
    return root


def invoke(*args: str | Path) -> str:
    done = CliRunner().invoke(app, [str(arg) for arg in args])
    assert done.exit_code == 0, done.output
    return done.output


def counting(monkeypatch: pytest.MonkeyPatch, *functions: Callable[..., Any]) -> dict[str, int]:
    """Wrap each function wherever a loaded module holds it, and count the calls."""
    calls = dict.fromkeys((f.__qualname__ for f in functions), 0)
    for function in functions:

        def counted(*args: Any, _function: Any = function, **kwargs: Any) -> Any:
            calls[_function.__qualname__] += 1
            return _function(*args, **kwargs)

        for module in list(sys.modules.values()):
            if getattr(module, function.__name__, None) is function:
                monkeypatch.setattr(module, function.__name__, counted)
    return calls


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, dict]]:
    """A run on a folder without a test split, trained with --seed 7, and the number of
    times `train` parsed, lowered and analysed its spec."""
    base = tmp_path_factory.mktemp("records")
    root = image_folder(base / "images", IMAGES_PER_CLASS)
    spec = base / "spec.ns"
    spec.write_text(
        "network tiny\ninput 8x8x3\nclasses 2\nconv 3x3 4\ngap\ndense classes\n"
        f'train:\n  dataset folder "{root}"\n  batch 4\n  epochs 3\n'
    )
    run = base / "run"
    with pytest.MonkeyPatch.context() as monkeypatch:
        calls = counting(
            monkeypatch,
            netspec.syntax.parser.parse,
            # Every lowering goes through it (`lower` calls it too).
            netspec.lowering.lower_as_far_as_possible,
            netspec.analysis.analyse.analyse,
        )
        invoke("train", spec, "--seed", SEED, "--epochs", 1, "--steps-per-epoch", 2,
               "--bn-batches", 0, "--out", run)  # fmt: skip
    yield root, run, calls


def test_train_parses_lowers_and_analyses_its_spec_once(trained: tuple[Path, Path, dict]) -> None:
    _, _, calls = trained
    assert calls == {"parse": 1, "lower_as_far_as_possible": 1, "analyse": 1}


def test_the_run_records_every_override(trained: tuple[Path, Path, dict]) -> None:
    root, run, _ = trained
    record = read_run_record(run)
    assert (record.config.seed, record.config.epochs) == (SEED, 1)
    assert (record.config.dataset.name, record.config.dataset.path) == ("folder", str(root))
    assert record.classes == ("dark", "light") and record.input == (8, 8, 3)
    assert record.steps_per_epoch == 2 and record.bn_batches == 0
    assert record.environment.tensorflow == tf.__version__


def scored_files(monkeypatch: pytest.MonkeyPatch, *args: str | Path) -> list[str]:
    """The test images `evaluate` scores, as its dataset lists them."""
    seen: list[str] = []
    make_datasets = evaluation_data.make_datasets

    def spy(data: Any, *rest: Any, **kwargs: Any) -> Any:
        seen.extend(data.test.sources)
        return make_datasets(data, *rest, **kwargs)

    monkeypatch.setattr(evaluation_data, "make_datasets", spy)
    invoke("evaluate", *args)
    return seen


def test_evaluate_scores_exactly_the_images_the_seed_held_out(
    trained: tuple[Path, Path, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, run, _ = trained
    with pytest.MonkeyPatch.context() as patch:
        calls = counting(patch, netspec.syntax.parser.parse, netspec.analysis.analyse.analyse)
        scored = scored_files(monkeypatch, run)
    assert calls == {"parse": 0, "analyse": 0}  # the spec is not read again
    held_out_by_seed_7 = [str(path) for path, _ in list_folder(root, SEED)[1]]
    held_out_by_seed_0 = [str(path) for path, _ in list_folder(root, 0)[1]]
    assert held_out_by_seed_7 != held_out_by_seed_0  # the spec's own seed would differ
    assert scored == held_out_by_seed_7
    record = read_run_record(run)
    assert record.held_out is not None
    assert [str(root / file) for file in record.held_out.files] == scored
    assert json.loads((run / "evaluation.json").read_text())["images"] == len(scored) == 2


def test_a_moved_folder_that_gained_images_is_scored_on_the_same_held_out_images(
    trained: tuple[Path, Path, dict], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root, run, _ = trained
    moved = tmp_path / "moved"
    shutil.copytree(root, moved)
    image_folder(moved, 5, start=IMAGES_PER_CLASS)
    scored = scored_files(monkeypatch, run, "--data-dir", moved)
    record = read_run_record(run)
    assert record.held_out is not None
    assert scored == [str(moved / file) for file in record.held_out.files]
    # Listing the grown folder again would have held other images out.
    assert scored != [str(path) for path, _ in list_folder(moved, SEED)[1]]


def test_a_full_disk_mid_checkpoint_leaves_the_previous_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tf.Variable([1.0, 2.0, 3.0])
    steps = tf.Variable(10, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(weights=weights)
    manager = tf.train.CheckpointManager(checkpoint, str(tmp_path), max_to_keep=2)
    save_checkpoint(manager, steps)
    first = manager.latest_checkpoint
    weights.assign([7.0, 8.0, 9.0])
    steps.assign(20)
    saver = checkpoint._saver
    write = saver.save

    def full_disk(file_prefix: Any, **kwargs: Any) -> Any:
        """The data files written, then cut short as a full disk leaves them."""
        written = write(file_prefix=file_prefix, **kwargs)
        for data in tmp_path.glob("ckpt-20.data-*"):
            data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
        assert written is not None
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(saver, "save", full_disk)
    with pytest.raises(CheckpointNotSaved) as raised:
        save_checkpoint(manager, steps)
    assert "No space left on device" in str(raised.value)
    assert f"{first} is intact" in str(raised.value)
    assert list(tmp_path.glob("ckpt-20.data-*")), "the failed save should have begun writing"
    assert tf.train.latest_checkpoint(str(tmp_path)) == first
    restored = tf.Variable([0.0, 0.0, 0.0])
    tf.train.Checkpoint(weights=restored).restore(first).assert_consumed()
    assert restored.numpy().tolist() == [1.0, 2.0, 3.0]
