"""`netspec sweep --train` in the front end: what it hands the installed trainer (found by
its entry point), and what it says without one; never a traceback, never TensorFlow."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from netspec.cli import app
from netspec.sweep_training import TRAINERS, SweepTraining, Trainer
from tests.helpers import HEADER, REPO, flat

runner = CliRunner()
SPACE = REPO / "examples" / "fashion_mnist_space.ns"
# Every configuration pools the 32x32 input to 1x1 before the 3x3 conv: none is valid.
NONE_VALID = (
    HEADER
    + """
search:
  p = 16 | 32

stem:
  conv 3x3 8
  maxpool (p)x(p)/p
  maxpool 2x2
  conv 3x3 8

head:
  gap
  dense classes
"""
)


class EntryPoint:
    """What importlib.metadata lists for an installed trainer."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer

    def load(self) -> Trainer:
        return self.trainer


def install(monkeypatch: pytest.MonkeyPatch, *trainers: Trainer) -> None:
    """These trainers, and no other, as the installed `netspec.sweep_trainers`."""

    def entry_points(*, group: str) -> list[EntryPoint]:
        assert group == TRAINERS
        return [EntryPoint(trainer) for trainer in trainers]

    monkeypatch.setattr("importlib.metadata.entry_points", entry_points)


def recording(requests: list[SweepTraining], code: int = 0) -> Trainer:
    def trainer(request: SweepTraining, console: object) -> int:
        requests.append(request)
        return code

    return trainer


def sweep(*args: str | Path) -> Result:
    return runner.invoke(app, ["sweep", *map(str, args)])


@pytest.mark.parametrize("training", [["--train"], ["--tuner", "random"]])
def test_training_at_another_input_is_a_usage_error_naming_input(training: list[str]) -> None:
    result = sweep(SPACE, *training, "--input", "32x32x1")
    assert result.exit_code == 2, result.output
    assert "--input" in flat(result.stderr) and "write it in the spec" in flat(result.stderr)


def test_without_a_trainer_installed_it_says_how_to_install_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install(monkeypatch)
    result = sweep(SPACE, "--train")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "pip install 'netspec[cpu]'" in result.stderr
    assert "Traceback" not in result.output


def test_the_trainer_gets_the_valid_configurations_and_the_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    requests: list[SweepTraining] = []
    install(monkeypatch, recording(requests, code=143))
    result = sweep(
        SPACE, "--train", "--epochs", "1", "--steps-per-epoch", "20", "--seed", "5",
        "--runs", tmp_path / "runs", "--data-dir", tmp_path / "data",
    )  # fmt: skip
    # The trainer's exit code is the command's (143: stopped by SIGTERM).
    assert result.exit_code == 143, result.output
    (request,) = requests
    # p=14 pools the images away before the head: only the three stem widths of p=2.
    assert request.configurations == ({"w": 16, "p": 2}, {"w": 24, "p": 2}, {"w": 32, "p": 2})
    assert (request.text, request.file) == (SPACE.read_text(), str(SPACE))
    assert (request.runs, request.data_dir) == (tmp_path / "runs", tmp_path / "data")
    assert (request.epochs, request.steps_per_epoch, request.seed) == (1, 20, 5)
    assert request.tuner is None
    # The static sweep is printed first, as without --train.
    assert "3 valid, 3 rejected" in flat(result.stdout)


def test_the_runs_go_to_runs_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    requests: list[SweepTraining] = []
    install(monkeypatch, recording(requests))
    assert sweep(SPACE, "--train").exit_code == 0
    assert requests[0].runs == Path("runs") and requests[0].epochs is None


def test_a_space_with_nothing_valid_trains_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    requests: list[SweepTraining] = []
    install(monkeypatch, recording(requests))
    spec = tmp_path / "none_valid.ns"
    spec.write_text(NONE_VALID)
    result = sweep(spec, "--train")
    assert result.exit_code == 1, result.output
    assert "0 valid" in result.output and requests == []


def test_without_train_no_trainer_is_looked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_lookup(*, group: str) -> list[EntryPoint]:
        raise AssertionError(f"looked for {group}")

    monkeypatch.setattr("importlib.metadata.entry_points", no_lookup)
    result = sweep(SPACE)
    assert result.exit_code == 0, result.output
