"""`netspec sweep --tuner`: the narrowed oracles start only valid configurations, each once;
a search trains one run per valid configuration, shares its trials between a chief and two
workers, and continues after a kill without retraining what finished."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import keras_tuner as kt
import pytest
from rich.console import Console

from compiler import tuner as tuner_module
from compiler.sweep_training import STOPPED_BY_SIGTERM, Outcome, run_state
from compiler.tuner import OBJECTIVE, make_oracle, narrowed, search_space
from netspec.records import MODEL_FILE, read_metrics, read_run_record
from netspec.runs import read_run
from netspec.sweep_training import SweepTraining, Tuner
from tests.compiler.test_training import needs_fashion
from tests.compiler.workers import free_ports
from tests.helpers import flat
from tests.test_runs_command import FASHION, make_run

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 300
Values = dict[str, int | float]

# Two of the six combinations rejected, as a static sweep rejects some: the valid set is not
# a grid, so a Choice per name alone would propose the two rejected ones.
REJECTED = {(1, 48), (2, 16)}
VALID: tuple[Values, ...] = tuple(
    {"s": s, "w": w} for s, w in itertools.product((1, 2), (16, 32, 48)) if (s, w) not in REJECTED
)


def key(values: dict[str, Any]) -> tuple[Any, ...]:
    """A configuration as a sortable tuple: its values of the search names, tuner/* left out."""
    return tuple(value for name, value in sorted(values.items()) if not name.startswith("tuner/"))


def keys(configurations: Any) -> list[tuple[Any, ...]]:
    return sorted(key(values) for values in configurations)


def score(values: dict[str, Any]) -> float:
    return sum(float(value) for value in key(values)) / 100


def drive(oracle: kt.Oracle, limit: int = 40) -> tuple[list[dict[str, Any]], str]:
    """Trials asked for and completed one at a time, as one tuner does (BaseTuner.search and
    on_trial_end), until the oracle stops: the values of each, and the status that ended it."""
    tried: list[dict[str, Any]] = []
    for _ in range(limit):
        trial = oracle.create_trial("tuner0")
        if trial.status != "RUNNING":
            return tried, trial.status
        values = dict(trial.hyperparameters.values)
        tried.append(values)
        oracle.update_trial(trial.trial_id, {OBJECTIVE: score(values)})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        # end_trial saves the trial still ongoing; the tuner's save after it records it ended.
        oracle.save()
    raise AssertionError(f"still proposing after {limit} trials: {tried}")


def prepared(oracle: kt.Oracle, directory: Path, project: str = "space") -> kt.Oracle:
    """The oracle with its state under `directory/project`, as BaseTuner sets it up, quiet."""
    oracle._set_project_dir(str(directory), project)
    oracle.verbose = 0
    return oracle


def sweep_oracle(tmp_path: Path, tuner: Tuner, max_trials: int | None = None) -> kt.Oracle:
    """The oracle `sweep --tuner` makes over VALID."""
    request = SweepTraining(
        text="", file="space.ns", configurations=VALID, runs=tmp_path, tuner=tuner,
        max_trials=max_trials,
    )  # fmt: skip
    return prepared(make_oracle(request, max_epochs=3), tmp_path)


def test_the_space_is_an_ordered_choice_per_name_of_the_values_valid_ones_use() -> None:
    valid = ({"w": 32, "d": 0}, {"w": 16, "d": 0.4}, {"w": 48, "d": 0})
    space = search_space(valid)
    assert [hp.name for hp in space.space] == ["w", "d"]
    assert all(isinstance(hp, kt.engine.hyperparameters.Choice) for hp in space.space)
    assert all(hp.ordered for hp in space.space)
    widths, dropouts = (hp.values for hp in space.space)
    assert widths == [16, 32, 48] and all(type(value) is int for value in widths)
    # One float among the values makes them all floats: a Choice holds one type.
    assert dropouts == [0.0, 0.4] and all(type(value) is float for value in dropouts)


def test_random_search_tries_each_valid_configuration_once_then_stops(tmp_path: Path) -> None:
    # More trials allowed than there are valid configurations: the valid set ends the search.
    tried, status = drive(sweep_oracle(tmp_path, "random", max_trials=20))
    assert keys(tried) == keys(VALID)
    assert status == "STOPPED"


def test_hyperband_starts_valid_configurations_only_and_continues_its_best(
    tmp_path: Path,
) -> None:
    oracle = sweep_oracle(tmp_path, "hyperband")
    tried, status = drive(oracle)
    assert all(key(values) in keys(VALID) for values in tried), tried
    fresh = [values for values in tried if "tuner/trial_id" not in values]
    assert keys(fresh) == keys(VALID)
    # Successive halving trains a finished trial's configuration further: the same values.
    continued = [values for values in tried if "tuner/trial_id" in values]
    assert continued, tried
    for values in continued:
        earlier = oracle.get_trial(values["tuner/trial_id"]).hyperparameters.values
        assert key(values) == key(earlier)
    assert status == "STOPPED"


class Proposing(kt.oracles.BayesianOptimizationOracle):  # type: ignore[misc]
    """Bayesian optimization whose proposals are given: the next of `proposals` each time,
    then stopped."""

    proposals: list[Values]

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        if not self.proposals:
            return {"status": "STOPPED"}
        return {"status": "RUNNING", "values": dict(self.proposals.pop(0))}


def proposing(tmp_path: Path, valid: tuple[Values, ...], proposals: list[Values]) -> kt.Oracle:
    oracle = narrowed(Proposing, valid)(
        objective=kt.Objective(OBJECTIVE, "max"),
        hyperparameters=search_space(valid),
        allow_new_entries=False,
        tune_new_entries=False,
        max_trials=20,
    )
    oracle.proposals = proposals
    return prepared(oracle, tmp_path)


def test_a_proposal_outside_the_valid_set_becomes_the_nearest_untried_valid_one(
    tmp_path: Path,
) -> None:
    # After (1, 16) and (2, 32), (1, 48) is proposed: untried are (1, 32) and (2, 48). Each
    # name's difference is divided by its span over the valid set (s: 1, w: 32), so (1, 32)
    # is at 0.25 and (2, 48) at 1; unscaled, w's 16 would outweigh s's 1 and (2, 48) win.
    proposals = [{"s": 1, "w": 16}, {"s": 2, "w": 32}, {"s": 1, "w": 48}]
    tried, _ = drive(proposing(tmp_path, VALID, [*proposals, {"s": 2, "w": 48}]))
    assert [key(values) for values in tried[:3]] == [(1, 16), (2, 32), (1, 32)]


def test_a_proposal_tried_already_becomes_an_untried_one(tmp_path: Path) -> None:
    # Bayesian optimization proposes its best so far again and again; on a float Choice it
    # writes 0 as 0.0, which must still count as tried.
    valid = ({"d": 0, "w": 16}, {"d": 0.4, "w": 16}, {"d": 0, "w": 32})
    again = {"d": 0.0, "w": 16}
    tried, status = drive(proposing(tmp_path, valid, [again] * 4))
    assert keys(tried) == keys(valid)
    assert status == "STOPPED"


# Fitted to two or three points, the Gaussian process meets a length-scale bound: sklearn warns.
# 1.2-1.4 s alone, 2-3 s beside other tests: each proposal is 50 L-BFGS-B restarts.
@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_bayesian_optimization_tries_each_valid_configuration_once(tmp_path: Path) -> None:
    # Its own Gaussian process past two random points, as many trials as valid configurations.
    oracle = narrowed(kt.oracles.BayesianOptimizationOracle, VALID)(
        objective=kt.Objective(OBJECTIVE, "max"),
        hyperparameters=search_space(VALID),
        allow_new_entries=False,
        tune_new_entries=False,
        max_trials=len(VALID),
        num_initial_points=2,
        seed=1,
    )
    tried, _ = drive(prepared(oracle, tmp_path))
    assert keys(tried) == keys(VALID)


def test_a_reloaded_search_takes_a_larger_max_trials_and_continues(tmp_path: Path) -> None:
    # Keras Tuner saves the trials and what was tried, not max_trials: `--max-trials 1`, then
    # a rerun without it, tries the others and none twice.
    first, status = drive(sweep_oracle(tmp_path, "random", max_trials=1))
    assert len(first) == 1 and status == "STOPPED"
    again = sweep_oracle(tmp_path, "random")
    again.reload()
    rest, status = drive(again)
    assert keys(first + rest) == keys(VALID)
    assert status == "STOPPED"


# A network of 426 parameters over Fashion-MNIST. s=2 p=14 pools the 14x14 map to 1x1 and
# the conv after it sees only padding: `collapse` rejects it; the other three are valid.
TINY_SPACE = """\
network tiny_space
input 28x28x1
classes 10

search:
  s = 1 | 2
  p = 2 | 14

defaults:
  conv same relu

stem:
  conv 3x3/s 4
  maxpool (p)x(p)/p
  conv 3x3 8

head:
  gap
  dense classes

train:
  dataset fashion_mnist
  epochs 1
  batch 64
  optimizer adam lr=0.01
"""
TINY_VALID = ({"s": 1, "p": 2}, {"s": 1, "p": 14}, {"s": 2, "p": 2})
TINY_REJECTED = {"s": 2, "p": 14}
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def tiny_sweep(tmp_path: Path) -> list[str]:
    """`netspec sweep --tuner random` over TINY_SPACE into tmp_path/runs, 5 steps a trial."""
    spec = tmp_path / "tiny_space.ns"
    spec.write_text(TINY_SPACE, encoding="utf-8")
    return [
        sys.executable, "-m", "netspec", "sweep", str(spec), "--tuner", "random",
        "--steps-per-epoch", "5", "--seed", "0", "--runs", str(tmp_path / "runs"),
    ]  # fmt: skip


def trained(runs: Path) -> dict[str, Values]:
    """Each finished run under `runs` by its directory's name: the configuration it trained."""
    found: dict[str, Values] = {}
    for run_dir in sorted(runs.iterdir()):
        if (run_dir / "run.json").is_file() and read_run(run_dir).status == "finished":
            configuration = read_run_record(run_dir).configuration
            assert configuration is not None, run_dir
            found[run_dir.name] = configuration
    return found


def sweep(command: list[str]) -> str:
    """The output of `command`, once it has exited 0."""
    done = subprocess.run(
        command, capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


@needs_fashion
@pytest.mark.slow
def test_a_random_search_trains_one_run_per_valid_configuration(tmp_path: Path) -> None:
    sweep(tiny_sweep(tmp_path))
    runs = trained(tmp_path / "runs")
    assert keys(runs.values()) == keys(TINY_VALID)
    assert TINY_REJECTED not in runs.values()
    # Nothing else was started: beside the finished runs, only the search's own state.
    made = sorted(path.name for path in (tmp_path / "runs").iterdir())
    assert made == sorted([*runs, "tiny_space-random"])


def start(command: list[str], env: dict[str, str], output: Path) -> subprocess.Popen[str]:
    """A process in a session of its own, so its whole group can be killed."""
    with output.open("w") as stream:
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=stream, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,
        )  # fmt: skip


def kill(processes: list[subprocess.Popen[str]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def distributed(folder: Path, names: tuple[str, ...], logs: Path) -> dict[str, str]:
    """`tiny_sweep` over folder by a chief and workers named `names`, on loopback: the
    output of each, once all have exited 0."""
    (port,) = free_ports(1)
    oracle = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port)}
    logs.mkdir()
    processes: list[subprocess.Popen[str]] = []
    try:
        for name in names:
            env = {**ENV, **oracle, "KERASTUNER_TUNER_ID": name}
            processes.append(start(tiny_sweep(folder), env, logs / name))
        deadline = time.monotonic() + TIMEOUT
        for process in processes:
            process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        kill(processes)
    outputs = {name: (logs / name).read_text() for name in names}
    for name, process in zip(names, processes, strict=True):
        assert process.returncode == 0, f"{name}:\n{outputs[name][-3000:]}"
    return outputs


@pytest.fixture(scope="module")
def shared_search(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A search shared by a chief and two workers: its folder and each one's output."""
    folder = tmp_path_factory.mktemp("shared")
    return folder, distributed(folder, ("chief", "tuner0", "tuner1"), folder / "first")


@needs_fashion
@pytest.mark.slow
def test_a_chief_and_two_workers_train_each_valid_configuration_once(
    shared_search: tuple[Path, dict[str, str]],
) -> None:
    folder, outputs = shared_search
    runs = trained(folder / "runs")
    assert keys(runs.values()) == keys(TINY_VALID)
    # Which worker trained a run: the run directory its training line names.
    by_worker = {name: {run for run in runs if run in flat(outputs[name])} for name in outputs}
    assert not by_worker["chief"], by_worker
    assert by_worker["tuner0"].isdisjoint(by_worker["tuner1"]), by_worker
    assert by_worker["tuner0"] | by_worker["tuner1"] == set(runs), by_worker
    assert by_worker["tuner0"] and by_worker["tuner1"], by_worker


def fingerprints(runs: Path) -> dict[str, tuple[bytes, int]]:
    """Each run's metrics.json, its bytes and its modification time."""
    files = {path.parent.name: path for path in runs.glob("*/metrics.json")}
    return {name: (path.read_bytes(), path.stat().st_mtime_ns) for name, path in files.items()}


@needs_fashion
@pytest.mark.slow
def test_a_shared_search_run_again_trains_nothing_again(
    shared_search: tuple[Path, dict[str, str]],
) -> None:
    folder, _ = shared_search
    before = fingerprints(folder / "runs")
    outputs = distributed(folder, ("chief", "tuner0"), folder / "again")
    assert fingerprints(folder / "runs") == before
    # The chief's saved state holds the last trial as ongoing: the worker is given it again
    # and finds its run finished.
    assert "trained already" in flat(outputs["tuner0"]), outputs["tuner0"][-3000:]


@needs_fashion
@pytest.mark.slow
def test_a_search_killed_after_a_trial_continues_without_retraining_it(tmp_path: Path) -> None:
    command = tiny_sweep(tmp_path)
    # The tuner saves its state when a trial ends.
    saved = tmp_path / "runs" / "tiny_space-random" / "tuner0.json"
    first = start(command, ENV, tmp_path / "first.txt")
    try:
        deadline = time.monotonic() + TIMEOUT
        while not saved.exists():
            assert first.poll() is None, (tmp_path / "first.txt").read_text()[-3000:]
            assert time.monotonic() < deadline, "no trial ended within the timeout"
            time.sleep(0.05)
    finally:
        kill([first])
    finished = trained(tmp_path / "runs")
    assert len(finished) == 1, finished
    (run,) = finished
    before = fingerprints(tmp_path / "runs")[run]

    output = sweep(command)
    assert "Reloading Tuner from" in output
    runs = trained(tmp_path / "runs")
    assert keys(runs.values()) == keys(TINY_VALID)
    assert runs[run] == finished[run]
    assert fingerprints(tmp_path / "runs")[run] == before
    assert run not in flat(output)


def test_a_trial_stopped_by_sigterm_stops_the_search_to_continue_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Path] = []

    def stopped(request: SweepTraining, values: Values, run_dir: Path, *_: Any) -> Outcome:
        started.append(run_dir)
        return Outcome(run_dir, 0.0, stopped=True)

    monkeypatch.setattr(tuner_module, "train_configuration", stopped)
    request = SweepTraining(
        text=TINY_SPACE,
        file=str(tmp_path / "tiny_space.ns"),
        configurations=TINY_VALID,
        runs=tmp_path / "runs",
        tuner="random",
        seed=0,
    )
    assert tuner_module.tune(request, Console(quiet=True)) == STOPPED_BY_SIGTERM
    # One trial started, and the search stopped with it rather than going on to the next.
    assert len(started) == 1
    # Its trial is left ongoing in the oracle's state: the same command run again resumes it.
    state = json.loads((tmp_path / "runs" / "tiny_space-random" / "oracle.json").read_text())
    assert state["ongoing_trials"] == {"tuner0": "0"}


def test_a_hyperband_round_continues_the_run_of_the_trial_it_trains_further(
    tmp_path: Path,
) -> None:
    past = make_run(tmp_path, "space_w16-trial0000", FASHION, [0.6], planned=1, finished=True)
    (past / "checkpoints").mkdir()
    (past / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "ckpt-1"\n')
    further = tmp_path / "space_w16-trial0004"
    tuner_module.continue_run(past, further)
    # The records and the checkpoint, not the model: the copy resumes for more epochs.
    assert sorted(p.name for p in further.iterdir()) == sorted(
        p.name for p in past.iterdir() if p.name != MODEL_FILE
    )
    assert read_metrics(further) == read_metrics(past)
    assert run_state(further) == "interrupted" and run_state(past) == "finished"
    # Started already (a rerun after a kill): what it holds is kept.
    (further / "metrics.json").write_text("{}")
    tuner_module.continue_run(past, further)
    assert (further / "metrics.json").read_text() == "{}"
    # A past run that did not finish is not continued: the round trains from the start.
    unfinished = make_run(
        tmp_path, "space_w32-trial0001", FASHION, [0.5], planned=2, finished=False
    )
    tuner_module.continue_run(unfinished, tmp_path / "space_w32-trial0005")
    assert not (tmp_path / "space_w32-trial0005").exists()


@needs_fashion
@pytest.mark.slow
def test_hyperband_trains_a_trial_further_from_where_its_run_ended(tmp_path: Path) -> None:
    command = tiny_sweep(tmp_path)
    command[command.index("random")] = "hyperband"
    sweep([*command, "--epochs", "3"])
    runs = tmp_path / "runs"
    continued = [
        run_dir
        for run_dir in sorted(runs.glob("*-trial*"))
        if (metrics := read_metrics(run_dir)) is not None and len(metrics.history) > 1
    ]
    assert continued, sorted(p.name for p in runs.iterdir())
    for run_dir in continued:
        later = read_metrics(run_dir)
        # The one-epoch trial it continues: same configuration, its epoch kept, not retrained.
        earlier = [
            past
            for past in runs.glob("*-trial*")
            if past != run_dir
            and read_run_record(past).configuration == read_run_record(run_dir).configuration
            and (metrics := read_metrics(past)) is not None
            and metrics.history[0] == later.history[0]
        ]
        assert earlier, run_dir.name
        assert later.optimizer_steps == 5 * len(later.history)
