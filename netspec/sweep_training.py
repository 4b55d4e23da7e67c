"""What `netspec sweep --train` and `--tuner` hand the backend: the valid configurations the
static sweep found, and how to train them.

The front end never imports the backend: it finds the trainer through the entry point
group `netspec.sweep_trainers` (the compiler registers one), so `sweep` without `--train`
stays a static command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from netspec.analysis.report import Frozen
from netspec.lowering.search import Values

if TYPE_CHECKING:
    from rich.console import Console

Tuner = Literal["random", "bayesian", "hyperband"]
TRAINERS = "netspec.sweep_trainers"


class SweepTraining(Frozen):
    """The valid configurations in the space's order, and the training each run gets."""

    text: str
    file: str
    configurations: tuple[Values, ...]
    # Where the runs go: each configuration's run directory is named by its values.
    runs: Path
    epochs: int | None = None
    steps_per_epoch: int | None = None
    data_dir: Path | None = None
    seed: int | None = None
    tuner: Tuner | None = None
    max_trials: int | None = None


Trainer = Callable[[SweepTraining, "Console"], int]


def find_trainer() -> Trainer | None:
    """The installed backend's trainer, or None when no backend is installed."""
    from importlib.metadata import entry_points

    for entry_point in entry_points(group=TRAINERS):
        trainer: Trainer = entry_point.load()
        return trainer
    return None
