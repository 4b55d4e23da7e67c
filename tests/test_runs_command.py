"""`netspec runs`: run directories in the format `netspec train` writes, one killed mid-way."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from compiler.run_dir import write_metrics
from netspec.cli import app
from netspec.plots import plot_runs
from netspec.runs import read_runs
from tests.helpers import GOOGLENET, REPO

FASHION = REPO / "specs" / "fashion_mnist.ns"


def make_run(
    root: Path, name: str, spec: Path, accuracies: list[float], planned: int, finished: bool
) -> Path:
    """What train leaves behind: spec.ns, metrics.json with one record per epoch, and
    model.keras once the run is done."""
    directory = root / name
    directory.mkdir(parents=True)
    (directory / "spec.ns").write_text(spec.read_text())
    history = [
        {
            "epoch": index + 1,
            "loss": 1.0 - accuracy,
            "accuracy": accuracy - 0.01,
            "val_loss": 1.2 - accuracy,
            "val_accuracy": accuracy,
            "seconds": 10.0,
            "bn_seconds": 1.0,
            "images_per_second": 1000.0 + index,
        }
        for index, accuracy in enumerate(accuracies)
    ]
    if history:
        extra = {"network": "net", "epochs_planned": planned, "dataset": "fashion_mnist",
                 "precision": "float32"}  # fmt: skip
        write_metrics(directory, history, extra)
    if finished:
        (directory / "model.keras").write_bytes(b"zip")
    return directory


def three_runs(root: Path) -> list[Path]:
    return [
        make_run(root, "done", FASHION, [0.80, 0.86, 0.85], planned=3, finished=True),
        make_run(root, "killed", FASHION, [0.70, 0.88], planned=5, finished=False),
        make_run(root, "never", GOOGLENET, [], planned=10, finished=False),
    ]


def test_every_run_is_listed_best_first_and_the_killed_ones_say_so(tmp_path: Path) -> None:
    three_runs(tmp_path / "runs")
    runs = read_runs([tmp_path / "runs"])
    assert [Path(run.directory).name for run in runs] == ["killed", "done", "never"]
    killed, done, never = runs
    assert (done.status, done.best_accuracy, done.last_accuracy) == ("finished", 0.86, 0.85)
    assert (killed.status, killed.epochs_completed) == ("stopped at epoch 2 of 5", 2)
    assert never.status == "no epoch completed" and never.best_accuracy is None
    assert done.wall_seconds == 33.0 and done.images_per_second == 1002.0
    # parameters and multiply-adds come from the run's own spec
    assert (done.params, done.input) == (47_234, (28, 28, 1))
    assert never.params == 6_998_552


def test_the_table_and_the_json(tmp_path: Path) -> None:
    three_runs(tmp_path / "runs")
    table = CliRunner().invoke(app, ["runs", str(tmp_path / "runs")])
    assert table.exit_code == 0, table.output
    rows = [line for line in table.output.splitlines() if line.startswith("│")]
    assert [row.split("│")[1].strip() for row in rows] == ["killed", "done", "never"]
    assert "stopped at epoch 2 of 5" in rows[0] and "0.8800" in rows[0]
    listed = CliRunner().invoke(app, ["runs", str(tmp_path / "runs"), "--json"])
    records = json.loads(listed.stdout)
    assert [(r["epochs_completed"], r["epochs_planned"]) for r in records] == [
        (2, 5),
        (3, 3),
        (0, None),
    ]


def test_the_plot_has_one_curve_per_run_with_epochs(tmp_path: Path) -> None:
    three_runs(tmp_path / "runs")
    output = tmp_path / "curves.png"
    assert plot_runs(read_runs([tmp_path / "runs"]), output) == 2
    with Image.open(output) as picture:
        assert picture.format == "PNG" and picture.size[0] > 500


def test_no_run_directory_is_an_error(tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["runs", str(tmp_path)]).exit_code == 1
