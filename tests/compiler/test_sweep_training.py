"""`netspec sweep --train`: each valid configuration trained as a run named by its values,
listed by `netspec runs` with them; killed and run again, a sweep keeps its finished runs,
resumes the interrupted one and starts the rest."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from compiler.cli import STOPPED_BY_SIGTERM
from compiler.run_dir import save_model
from compiler.runner import RunResult, run
from compiler.session import CheckedSpec, RunOptions, TrainingError, fail
from compiler.sweep_training import run_state, train_sweep
from netspec.api import compile_text
from netspec.cli import app
from netspec.records import (
    METRICS_FILE,
    MODEL_FILE,
    RUN_FILE,
    SPEC_FILE,
    read_metrics,
    read_run_record,
    write_record,
)
from netspec.runs import read_run
from netspec.sweep_training import SweepTraining
from tests.compiler.test_training import needs_fashion
from tests.helpers import REPO
from tests.test_runs_command import FASHION, make_run, table_cells

pytestmark = pytest.mark.keras

# Six configurations: p=14 pools 28x28 to 2x2, the second pool to 1x1, and the 3x3 conv
# after it collapses, so only the three of p=2 are valid. A few hundred parameters: each
# run costs about its evaluation of the 10,000 test images.
SPACE = """\
network tiny_space
input 28x28x1
classes 10

search:
  w = 4 | 8 | 12
  p = 2 | 14

stem:
  conv 3x3 w bn relu
  maxpool (p)x(p)/p
  maxpool 2x2
  conv 3x3 w bn relu

head:
  gap
  dense classes

train:
  dataset fashion_mnist
  epochs 3
  batch 64
  optimizer adam lr=0.003
"""
VALID = {
    "tiny_space_w4_p2": {"w": 4, "p": 2},
    "tiny_space_w8_p2": {"w": 8, "p": 2},
    "tiny_space_w12_p2": {"w": 12, "p": 2},
}
STEPS = "5"
TIMEOUT = 300
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def write_space(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "tiny_space.ns"
    spec.write_text(SPACE)
    return spec


def sweep_command(spec: Path, runs: Path, epochs: int) -> list[str]:
    return [
        sys.executable, "-m", "netspec", "sweep", str(spec), "--train",
        "--epochs", str(epochs), "--steps-per-epoch", STEPS, "--runs", str(runs),
    ]  # fmt: skip


def sweep_to_the_end(spec: Path, runs: Path, epochs: int) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        sweep_command(spec, runs, epochs),
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The runs folder of one `sweep --train --epochs 1`, and what the sweep printed."""
    folder = tmp_path_factory.mktemp("sweep")
    runs = folder / "runs"
    done = sweep_to_the_end(write_space(folder), runs, epochs=1)
    return runs, done.stdout


@pytest.mark.slow
@needs_fashion
def test_each_valid_configuration_is_a_finished_run_holding_its_values(
    swept: tuple[Path, str],
) -> None:
    runs, output = swept
    # The rejected configurations (p=14) have no run directory.
    assert sorted(p.name for p in runs.iterdir()) == sorted(VALID)
    for name, values in VALID.items():
        run = read_run(runs / name)
        assert run.status == "finished", (name, run.status)
        assert (run.epochs_completed, run.epochs_planned) == (1, 1)
        assert read_run_record(runs / name).configuration == values
        # The spec the run kept is the configuration's, not the space.
        kept = (runs / name / SPEC_FILE).read_text()
        assert "search:" not in kept and f"conv 3x3 {values['w']} bn relu" in kept
    assert "configuration 3 of 3" in output and "configuration 4" not in output


@pytest.mark.slow
@needs_fashion
def test_netspec_runs_lists_the_sweep_with_its_configurations(swept: tuple[Path, str]) -> None:
    runs, _ = swept
    table = CliRunner().invoke(app, ["runs", str(runs)])
    assert table.exit_code == 0, table.output
    listed = {row["run"]: row for row in table_cells(table.output)}
    assert {name: row["configuration"] for name, row in listed.items()} == {
        name: f"w={v['w']} p={v['p']}" for name, v in VALID.items()
    }
    assert {row["status"] for row in listed.values()} == {"finished"}
    as_json = json.loads(CliRunner().invoke(app, ["runs", str(runs), "--json"]).stdout)
    assert {Path(r["directory"]).name: r["configuration"] for r in as_json} == VALID


@pytest.mark.slow
@needs_fashion
def test_a_run_resumed_without_its_values_keeps_them_and_saves_its_model(
    swept: tuple[Path, str], tmp_path: Path
) -> None:
    # A kill while the model was being saved: every epoch recorded, the checkpoint kept, no
    # model.keras. `netspec train --resume` (no configuration given) finishes it.
    name = "tiny_space_w8_p2"
    run_dir = tmp_path / name
    shutil.copytree(swept[0] / name, run_dir)
    (run_dir / MODEL_FILE).unlink()
    assert run_state(run_dir) == "interrupted"
    epochs_before = read_metrics(run_dir)
    spec = CheckedSpec.of((run_dir / SPEC_FILE).read_text(), str(run_dir / SPEC_FILE))
    result = run(spec, RunOptions(out_dir=run_dir, resume=True), Console(quiet=True))
    assert result.epochs_completed == 1
    assert read_run_record(run_dir).configuration == VALID[name]
    assert read_metrics(run_dir) == epochs_before
    assert run_state(run_dir) == "finished"


def fingerprint(path: Path) -> tuple[int, int, str]:
    """Inode, modification time and content: a file rewritten changes at least one."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def wait_until(
    condition: Callable[[], Path | None], process: subprocess.Popen[str], what: str
) -> Path:
    deadline = time.monotonic() + TIMEOUT
    while True:
        found = condition()
        if found is not None:
            return found
        assert process.poll() is None, f"the sweep ended before {what}"
        assert time.monotonic() < deadline, f"not {what} within {TIMEOUT} s"
        time.sleep(0.02)


@pytest.mark.slow
@needs_fashion
def test_a_killed_sweep_run_again_keeps_the_finished_run_and_resumes_the_interrupted(
    tmp_path: Path,
) -> None:
    spec, runs = write_space(tmp_path), tmp_path / "runs"

    def one_finished() -> Path | None:
        done = [runs / n for n in VALID if run_state(runs / n) == "finished"]
        return done[0] if done else None

    def another_checkpointed() -> Path | None:
        started = [
            runs / n
            for n in VALID
            if runs / n != first and (runs / n / METRICS_FILE).is_file()
            and run_state(runs / n) == "interrupted"
        ]  # fmt: skip
        return started[0] if started else None

    # Four epochs: the kill must fall between the second run's first checkpoint and its end.
    process = subprocess.Popen(
        sweep_command(spec, runs, epochs=4),
        cwd=REPO,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        first = wait_until(one_finished, process, "the first run finished")
        second = wait_until(another_checkpointed, process, "the second run checkpointed")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
    assert read_run(second).status != "finished", "the kill came after the second run ended"
    kept = {f: fingerprint(first / f) for f in (METRICS_FILE, MODEL_FILE, RUN_FILE)}
    interrupted = read_metrics(second)
    assert interrupted is not None

    done = sweep_to_the_end(spec, runs, epochs=4)
    flat = re.sub(r"\s+", " ", done.stdout)
    assert f"in {first}: trained already" in flat
    assert f"in {second}: resuming" in flat
    assert flat.count("trained already") == 1 and flat.count(": resuming") == 1
    assert {f: fingerprint(first / f) for f in kept} == kept
    for name, values in VALID.items():
        assert read_run(runs / name).status == "finished", name
        assert read_run_record(runs / name).configuration == values
    resumed = read_metrics(second)
    assert resumed is not None and len(resumed.history) == 4
    # The epoch checkpointed before the kill is kept, not trained again.
    assert resumed.history[0] == interrupted.history[0]


def finished_run(runs: Path, name: str) -> Path:
    return make_run(runs, name, FASHION, [0.8], planned=1, finished=True)


def checkpointed(run_dir: Path) -> Path:
    (run_dir / "checkpoints").mkdir()
    (run_dir / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-5"\n')
    return run_dir


def test_run_state_from_the_records_a_run_leaves(tmp_path: Path) -> None:
    assert run_state(tmp_path / "never") == "new"
    # Killed before its run record: only the spec.
    started = tmp_path / "started"
    started.mkdir()
    (started / SPEC_FILE).write_text(FASHION.read_text())
    assert run_state(started) == "new"
    # Killed before its first checkpoint: nothing to resume from.
    early = make_run(tmp_path, "early", FASHION, [0.7], planned=3, finished=False)
    assert run_state(early) == "new"
    assert run_state(checkpointed(make_run(tmp_path, "mid", FASHION, [0.7], 3, False))) == (
        "interrupted"
    )
    # Every epoch recorded but killed before the model was saved.
    assert run_state(checkpointed(make_run(tmp_path, "saving", FASHION, [0.7], 1, False))) == (
        "interrupted"
    )
    assert run_state(checkpointed(finished_run(tmp_path, "done"))) == "finished"


class KilledWhileSaving:
    """A model whose save writes part of the archive, then is interrupted."""

    def save(self, path: Path) -> None:
        path.write_bytes(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt


def test_a_model_save_cut_short_leaves_no_model_file_so_the_run_is_not_finished(
    tmp_path: Path,
) -> None:
    run_dir = checkpointed(make_run(tmp_path, "saving", FASHION, [0.7], 1, False))
    with pytest.raises(KeyboardInterrupt):
        save_model(KilledWhileSaving(), run_dir / MODEL_FILE)  # type: ignore[arg-type]
    assert sorted(p.name for p in run_dir.iterdir() if "model" in p.name) == []
    assert run_state(run_dir) == "interrupted"


def request_for(runs: Path, epochs: int | None = 2) -> SweepTraining:
    return SweepTraining(
        text=SPACE,
        file="specs/tiny_space.ns",
        configurations=tuple(VALID.values()),
        runs=runs,
        epochs=epochs,
        steps_per_epoch=7,
        seed=3,
    )


class FakeRun:
    """compiler.runner.run, recording what each call was asked; `outcomes` by run name."""

    def __init__(self, outcomes: dict[str, bool | TrainingError] | None = None) -> None:
        self.calls: list[tuple[str, RunOptions]] = []
        self.outcomes = outcomes or {}

    def __call__(self, spec: CheckedSpec, options: RunOptions, console: Console) -> RunResult:
        assert options.out_dir is not None
        self.calls.append((spec.text, options))
        outcome = self.outcomes.get(options.out_dir.name, False)
        if isinstance(outcome, TrainingError):
            raise outcome
        return RunResult(options.out_dir, 1, 0.5, 1.0, 7, 7 * 64, stopped=outcome)

    def names(self) -> list[str]:
        return [options.out_dir.name for _, options in self.calls if options.out_dir]


def fake_run(monkeypatch: pytest.MonkeyPatch, fake: FakeRun) -> FakeRun:
    monkeypatch.setattr("compiler.runner.run", fake)
    return fake


def test_the_sweep_skips_the_finished_resumes_the_interrupted_and_starts_the_new(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    finished_run(runs, "tiny_space_w4_p2")
    checkpointed(make_run(runs, "tiny_space_w8_p2", FASHION, [0.7], planned=2, finished=False))
    fake = fake_run(monkeypatch, FakeRun())
    console = Console(record=True, width=300)
    assert train_sweep(request_for(runs), console) == 0
    assert fake.names() == ["tiny_space_w8_p2", "tiny_space_w12_p2"]
    (text8, resumed), (text12, started) = fake.calls
    assert (resumed.resume, started.resume) == (True, False)
    assert resumed.configuration == VALID["tiny_space_w8_p2"]
    assert started.configuration == VALID["tiny_space_w12_p2"]
    for options in (resumed, started):
        assert (options.epochs, options.steps_per_epoch, options.seed) == (2, 7, 3)
    # Each run trains its configuration's concrete spec.
    assert "search:" not in text8 and "conv 3x3 8 bn relu" in text8
    assert "conv 3x3 12 bn relu" in text12 and "conv 3x3 8 " not in text12
    printed = console.export_text()
    assert f"w=4 p=2 in {runs / 'tiny_space_w4_p2'}: trained already" in printed
    # Finished with 1 epoch, asked for 2: kept, and said so.
    assert "trained already (1 epoch(s), not the 2 asked" in printed
    assert f"w=8 p=2 in {runs / 'tiny_space_w8_p2'}: resuming" in printed


def test_a_sigterm_stops_the_sweep_before_the_next_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_run(monkeypatch, FakeRun({"tiny_space_w8_p2": True}))
    code = train_sweep(request_for(tmp_path / "runs"), Console(quiet=True))
    assert code == STOPPED_BY_SIGTERM
    assert fake.names() == ["tiny_space_w4_p2", "tiny_space_w8_p2"]


def test_a_configuration_that_cannot_train_ends_the_sweep_with_its_diagnostic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    network = compile_text(FASHION.read_text())
    error = fail(network, "dataset", "fashion_mnist is not in the data folder")
    fake = fake_run(monkeypatch, FakeRun({"tiny_space_w4_p2": error}))
    console = Console(record=True, width=300)
    assert train_sweep(request_for(tmp_path / "runs"), console) == 1
    assert fake.names() == ["tiny_space_w4_p2"]
    assert "fashion_mnist is not in the data folder" in console.export_text()


def test_a_resumed_run_takes_its_values_from_its_record_unless_given(tmp_path: Path) -> None:
    from compiler.session import _recorded_settings

    run_dir = make_run(tmp_path, "run", FASHION, [0.7], planned=3, finished=False)
    record = read_run_record(run_dir)
    write_record(run_dir / RUN_FILE, record.model_copy(update={"configuration": {"w": 16}}))
    network = compile_text(FASHION.read_text())
    _, options = _recorded_settings(network, run_dir, RunOptions(out_dir=run_dir, resume=True))
    assert options.configuration == {"w": 16}
    given = RunOptions(out_dir=run_dir, resume=True, configuration={"w": 24})
    assert _recorded_settings(network, run_dir, given)[1].configuration == {"w": 24}
