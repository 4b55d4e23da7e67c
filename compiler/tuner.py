"""`netspec sweep --tuner`: Keras Tuner searches the valid configurations only.

Each search name becomes a Choice of the values the valid configurations use, and the
oracle is narrowed so that every trial it starts is a valid configuration: a random draw
(random search, Hyperband, Bayesian optimization's first points) comes from the valid
ones not tried yet, and a Bayesian proposal outside them, or tried already, becomes the
nearest untried valid one. No trial is spent on a network the static sweep rejected, nor
(Hyperband's rounds that train a trial further aside) on one tried already.

A trial is an ordinary run (compiler.sweep_training.train_configuration) in
`<runs>/<name>-trial<id>`, its configuration in its run record, so `netspec runs` compares
trials as it compares a sweep. A Hyperband round that trains a trial further starts from a
copy of that trial's run and resumes it for the round's epochs. The oracle keeps its state
in `<runs>/<spec>-<tuner>/`: run again, the search continues where a kill stopped it, the
interrupted trial resumed from its checkpoint.

Beyond one machine, Keras Tuner's own distributed mode: the process started with
KERASTUNER_TUNER_ID=chief serves the oracle at KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT,
and each process started with another id (tuner0, tuner1, ...) trains the trials it is
given.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any, get_args

import keras_tuner as kt
from rich.console import Console

from compiler.sweep_training import (
    STOPPED_BY_SIGTERM,
    configuration_text,
    run_name,
    run_state,
    train_configuration,
)
from netspec.api import NetspecError
from netspec.lowering.search import Values
from netspec.records import MODEL_FILE
from netspec.render import print_diagnostics, runs_table
from netspec.runs import read_run, read_runs
from netspec.sweep_training import SweepTraining, Tuner

OBJECTIVE = "val_accuracy"
ORACLES: dict[str, type[kt.Oracle]] = {
    "random": kt.oracles.RandomSearchOracle,
    "bayesian": kt.oracles.BayesianOptimizationOracle,
    "hyperband": kt.oracles.HyperbandOracle,
}
assert tuple(ORACLES) == get_args(Tuner)


class StoppedBySigterm(kt.errors.FatalError):
    """The trial saved a checkpoint and stopped: the search stops with it, to continue."""


class TrialFailed(kt.errors.FatalError):
    """A configuration that cannot train (its data, its settings) fails every other too."""


def search_space(configurations: tuple[Values, ...]) -> kt.HyperParameters:
    """One ordered Choice per search name, of the values valid configurations take."""
    space = kt.HyperParameters()
    for name in configurations[0]:
        values = sorted({values[name] for values in configurations})
        if any(isinstance(value, float) for value in values):
            values = [float(value) for value in values]
        space.Choice(name, values, ordered=True)
    return space


def narrowed(base: type[kt.Oracle], valid: tuple[Values, ...]) -> type[kt.Oracle]:
    """`base` proposing only the configurations in `valid`."""
    names = tuple(valid[0])
    spans = {
        name: (max(v[name] for v in valid) - min(v[name] for v in valid)) or 1 for name in names
    }

    class ValidOnly(base):  # type: ignore[valid-type, misc]
        def _untried(self) -> list[Values]:
            return [dict(values) for values in valid if not self._duplicate(dict(values))]

        def _random_values(self) -> Values | None:
            untried = self._untried()
            if not untried:
                return None
            choice = random.Random(self._seed_state).choice(untried)
            self._seed_state += 1
            return choice

        def populate_space(self, trial_id: str) -> dict[str, Any]:
            proposal: dict[str, Any] = super().populate_space(trial_id)
            values = proposal.get("values")
            if proposal.get("status") != "RUNNING" or not values:
                return proposal
            configuration = {name: values[name] for name in names}
            # The valid configuration's own values: a float Choice writes 0 as 0.0, and the
            # tried ones are known by their values' text.
            known = next((dict(v) for v in valid if v == configuration), None)
            # Bayesian optimization proposes its best so far again and again; a Hyperband
            # round continuing a trial is no repeat (its tuner/trial_id is in the values).
            if known is not None and not self._duplicate({**values, **known}):
                return {**proposal, "values": {**values, **known}}
            untried = self._untried()
            if not untried:
                return {"status": "STOPPED", "values": None}

            def distance(candidate: Values) -> float:
                return sum(
                    ((candidate[name] - configuration[name]) / spans[name]) ** 2 for name in names
                )

            return {"status": "RUNNING", "values": {**values, **min(untried, key=distance)}}

    return ValidOnly


def make_oracle(request: SweepTraining, max_epochs: int) -> kt.Oracle:
    assert request.tuner is not None
    valid = request.configurations
    oracle_class = narrowed(ORACLES[request.tuner], valid)
    common: dict[str, Any] = {
        "objective": kt.Objective(OBJECTIVE, "max"),
        "hyperparameters": search_space(valid),
        "allow_new_entries": False,
        "tune_new_entries": False,
        "seed": request.seed,
    }
    if request.tuner == "hyperband":
        return oracle_class(max_epochs=max_epochs, **common)
    return oracle_class(max_trials=request.max_trials or len(valid), **common)


def trial_dir(request: SweepTraining, values: Values, trial_id: str) -> Path:
    """`runs/fashion_mnist_space_w24_p2-trial1`: a trial's run, named by its values."""
    return request.runs / f"{run_name(request, values)}-trial{trial_id}"


def continue_run(past: Path, run_dir: Path) -> None:
    """A Hyperband round that trains a trial further starts where that trial's run ended,
    as Keras Tuner's own tuners continue the earlier weights: the run copied whole or not at
    all, without its model, so that it resumes from its last checkpoint for more epochs."""
    if run_dir.exists() or run_state(past) != "finished":
        return
    partial = run_dir.with_name(f".{run_dir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(past, partial, ignore=shutil.ignore_patterns(MODEL_FILE))
    partial.rename(run_dir)


class RunTrials(kt.engine.base_tuner.BaseTuner):  # type: ignore[misc]
    """Each trial trained as an ordinary run of its configuration."""

    def __init__(self, request: SweepTraining, console: Console, oracle: kt.Oracle) -> None:
        super().__init__(
            oracle=oracle,
            directory=str(request.runs),
            project_name=f"{Path(request.file).stem}-{request.tuner}",
            overwrite=False,
        )
        self.request = request
        self.console = console
        self.run_dirs: list[Path] = []

    def run_trial(self, trial: kt.engine.trial.Trial, *_: Any, **__: Any) -> dict[str, float]:
        from compiler.session import TrainingError

        hyperparameters = trial.hyperparameters
        values = {name: hyperparameters.get(name) for name in self.request.configurations[0]}
        # Hyperband's rounds give a trial its epochs; the others train the run's own.
        epochs = hyperparameters.values.get("tuner/epochs")
        run_dir = trial_dir(self.request, values, trial.trial_id)
        self.run_dirs.append(run_dir)
        # Reloaded, Keras Tuner retries each trial its state left ongoing, finished or not:
        # the chief saves that state in end_trial before it drops the trial from the ongoing.
        if run_state(run_dir) == "finished":
            self.console.print(f"trial {trial.trial_id}: {run_dir} trained already")
            return {OBJECTIVE: read_run(run_dir).last_accuracy}
        past = hyperparameters.values.get("tuner/trial_id")
        if past is not None:
            continue_run(trial_dir(self.request, values, past), run_dir)
        try:
            outcome = train_configuration(self.request, values, run_dir, self.console, epochs)
        except (TrainingError, NetspecError) as exc:
            print_diagnostics(self.console, exc.diagnostics, None)
            raise TrialFailed(str(exc)) from None
        if outcome.stopped:
            raise StoppedBySigterm(f"trial {trial.trial_id} stopped by SIGTERM")
        return {OBJECTIVE: outcome.val_accuracy}


def tune(request: SweepTraining, console: Console) -> int:
    """The search; the exit code of `netspec sweep --tuner`."""
    from compiler.session import CheckedSpec

    first = CheckedSpec.of(configuration_text(request, request.configurations[0]), request.file)
    tuner = RunTrials(
        request, console, make_oracle(request, request.epochs or first.network.train.epochs)
    )
    try:
        tuner.search()
    except StoppedBySigterm:
        return STOPPED_BY_SIGTERM
    except TrialFailed:
        return 1
    if tuner.run_dirs:
        console.print(runs_table(read_runs(tuner.run_dirs)))
    return 0
