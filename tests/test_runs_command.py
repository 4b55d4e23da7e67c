"""`netspec runs`: run directories in the format `netspec train` writes, one killed mid-way."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image
from typer.testing import CliRunner

from netspec.api import check_file, compile_file
from netspec.cli import app
from netspec.plots import plot_runs
from netspec.records import (
    RUN_FILE,
    SPEC_FILE,
    Environment,
    EpochRecord,
    Metrics,
    Preprocessing,
    RunRecord,
    read_run_record,
    write_metrics,
    write_record,
)
from netspec.runs import read_runs
from tests.helpers import GOOGLENET, REPO

FASHION = REPO / "specs" / "fashion_mnist.ns"


def run_record(spec: Path, planned: int) -> RunRecord:
    """What train records at the start: the spec's network and static totals, the settings."""
    network = compile_file(spec)
    report = check_file(spec)
    assert report.totals is not None
    return RunRecord(
        network=network.name,
        spec=str(spec),
        input=report.input,
        params=report.totals.params,
        macs=report.totals.macs,
        config=network.train.model_copy(update={"epochs": planned}),
        data_dir=None,
        classes=tuple(str(i) for i in range(network.classes)),
        held_out=None,
        train_images=60_000,
        test_images=10_000,
        preprocessing=Preprocessing(input=report.input, center_crop=None, mean=(0.3,), std=(0.3,)),
        steps_per_epoch=468,
        replicas=1,
        strategy="_DefaultDistributionStrategy",
        precision="float32",
        jit=False,
        steps_per_execution=1,
        bn_batches=100,
        environment=Environment(
            netspec="0.1.0", tensorflow="2", keras="3", python="3.11", cpu="a CPU", gpus=()
        ),
    )


def make_run(
    root: Path, name: str, spec: Path, accuracies: list[float], planned: int, finished: bool
) -> Path:
    """What train leaves behind: spec.ns, run.json, metrics.json with one record per epoch,
    and model.keras once the run is done."""
    directory = root / name
    directory.mkdir(parents=True)
    (directory / SPEC_FILE).write_text(spec.read_text())
    write_record(directory / "run.json", run_record(spec, planned))
    history = tuple(
        EpochRecord(
            epoch=index + 1,
            loss=1.0 - accuracy,
            accuracy=accuracy - 0.01,
            lr=0.1,
            seconds=10.0,
            images_per_second=1000.0 + index,
            bn_seconds=1.0,
            val_loss=1.2 - accuracy,
            val_accuracy=accuracy,
            val_images=10_000,
            mfu=None,
        )
        for index, accuracy in enumerate(accuracies)
    )
    if history:
        steps = 468 * len(history)
        write_metrics(
            directory, Metrics(optimizer_steps=steps, images_seen=steps * 128, history=history)
        )
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
    # parameters and multiply-adds come from the run record, as the static analysis made them
    assert (done.params, done.input) == (47_234, (28, 28, 1))
    assert never.params == 6_998_552


def test_the_settings_come_from_the_record_not_from_the_spec_text(tmp_path: Path) -> None:
    (done, *_) = three_runs(tmp_path / "runs")
    # An edited (here: broken) spec.ns cannot change what the run used.
    (done / SPEC_FILE).write_text("network edited\n")
    run = next(r for r in read_runs([tmp_path / "runs"]) if r.directory == str(done))
    assert (run.network, run.params, run.epochs_planned) == ("fashion_mnist", 47_234, 3)


def old_run(root: Path) -> Path:
    """A run directory as netspec wrote it before run records: no run.json, and a
    metrics.json without schema_version."""
    directory = root / "old"
    directory.mkdir(parents=True)
    (directory / SPEC_FILE).write_text(FASHION.read_text())
    (directory / "classes.json").write_text(json.dumps({"classes": ["0"], "preprocessing": {}}))
    epoch = {"epoch": 1, "loss": 0.5, "val_loss": 0.4, "val_accuracy": 0.8, "seconds": 9.0}
    metrics = {"epochs_completed": 1, "val_accuracy": 0.8, "history": [epoch]}
    (directory / "metrics.json").write_text(json.dumps(metrics))
    return directory


def test_an_old_run_directory_is_listed_with_the_file_that_cannot_be_read(
    tmp_path: Path,
) -> None:
    old = old_run(tmp_path / "runs")
    three_runs(tmp_path / "runs")
    runs = read_runs([tmp_path / "runs"])
    (listed,) = [run for run in runs if run.directory == str(old)]
    assert listed.status.startswith(f"unreadable: {old / 'run.json'}: no such file")
    assert "before run records" in listed.status
    table = CliRunner().invoke(app, ["runs", str(tmp_path / "runs")])
    assert table.exit_code == 0, table.output
    assert "unreadable" in table.output and len(runs) == 4


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
        (0, 10),
    ]


def test_the_plot_has_one_curve_per_run_with_epochs(tmp_path: Path) -> None:
    three_runs(tmp_path / "runs")
    output = tmp_path / "curves.png"
    assert plot_runs(read_runs([tmp_path / "runs"]), output) == 2
    with Image.open(output) as picture:
        assert picture.format == "PNG" and picture.size[0] > 500


def test_no_run_directory_is_an_error(tmp_path: Path) -> None:
    assert CliRunner().invoke(app, ["runs", str(tmp_path)]).exit_code == 1


def table_cells(output: str) -> list[dict[str, str]]:
    """Each row of the printed runs table, by column name."""
    lines = output.splitlines()
    header = next(line for line in lines if line.startswith("┃") and " run " in line)
    columns = [cell.strip() for cell in header.split("┃")[1:-1]]
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in lines if line.startswith("│")]
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_a_sweeps_run_shows_its_configuration_and_plain_runs_no_such_column(
    tmp_path: Path,
) -> None:
    done, *_ = three_runs(tmp_path / "runs")
    plain = CliRunner().invoke(app, ["runs", str(tmp_path / "runs")])
    assert plain.exit_code == 0, plain.output
    assert "configuration" not in plain.output
    record = read_run_record(done)
    write_record(done / RUN_FILE, record.model_copy(update={"configuration": {"w": 16, "p": 2}}))
    swept = CliRunner().invoke(app, ["runs", str(tmp_path / "runs")])
    assert swept.exit_code == 0, swept.output
    rows = {row["run"]: row for row in table_cells(swept.output)}
    assert rows["done"]["configuration"] == "w=16 p=2"
    assert rows["killed"]["configuration"] == rows["never"]["configuration"] == ""
    # The columns after it still hold their own values.
    assert (rows["done"]["input"], rows["done"]["params"]) == ("28x28x1", "47,234")
    assert rows["done"]["status"] == "finished"
    listed = json.loads(CliRunner().invoke(app, ["runs", str(tmp_path / "runs"), "--json"]).stdout)
    assert {Path(r["directory"]).name: r["configuration"] for r in listed} == {
        "done": {"w": 16, "p": 2},
        "killed": None,
        "never": None,
    }
