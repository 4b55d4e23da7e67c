"""`netspec sweep --train`: each valid configuration trained as an ordinary run.

A configuration's run directory is named by its values (`runs/cifar_ablation_s1_p2`) and
its run record holds them, so `netspec runs` lists the sweep like any runs. Run again, a
sweep skips the runs that finished, resumes the one a kill interrupted from its last
checkpoint, and starts the others: a killed sweep loses at most the current epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console

from compiler.cli import STOPPED_BY_SIGTERM
from compiler.quiet_start import import_tensorflow
from netspec.api import NetspecError
from netspec.lowering.search import Values, concrete, values_text
from netspec.records import SPEC_FILE
from netspec.render import print_diagnostics, runs_table
from netspec.runs import read_run, read_runs
from netspec.sweep import file_name
from netspec.sweep_training import SweepTraining
from netspec.syntax.parser import parse
from netspec.syntax.printer import print_spec

State = Literal["finished", "interrupted", "new"]


@dataclass(frozen=True)
class Outcome:
    """How one configuration's run ended: its validation accuracy, or stopped by SIGTERM."""

    run_dir: Path
    val_accuracy: float
    stopped: bool


def run_state(run_dir: Path) -> State:
    """`finished` (its last epoch and model saved), `interrupted` (a checkpoint to resume
    from), or `new` (nothing to keep: never started, or killed before its first checkpoint)."""
    if not run_dir.is_dir():
        return "new"
    if read_run(run_dir).status == "finished":
        return "finished"
    return "interrupted" if (run_dir / "checkpoints" / "checkpoint").is_file() else "new"


def run_name(request: SweepTraining, values: Values) -> str:
    """`cifar_ablation_s1_p2`: a configuration's run, named as `sweep -o` names its spec."""
    return file_name(Path(request.file).stem, values)


def configuration_text(request: SweepTraining, values: Values) -> str:
    """The concrete spec of one configuration, through the printer (comments kept)."""
    return print_spec(concrete(parse(request.text, request.file), values))


def train_configuration(
    request: SweepTraining,
    values: Values,
    run_dir: Path,
    console: Console,
    epochs: int | None = None,
) -> Outcome:
    """Train one configuration in `run_dir`, resuming it if a kill interrupted it; a
    TrainingError or NetspecError says what is wrong with it."""
    from compiler.runner import run
    from compiler.session import CheckedSpec, RunOptions

    text = configuration_text(request, values)
    # Diagnostics point at the spec the run keeps, which is this text.
    spec = CheckedSpec.of(text, str(run_dir / SPEC_FILE))
    options = RunOptions(
        epochs=epochs or request.epochs,
        data_dir=request.data_dir,
        out_dir=run_dir,
        resume=run_state(run_dir) == "interrupted",
        seed=request.seed,
        steps_per_epoch=request.steps_per_epoch,
        configuration=values,
    )
    result = run(spec, options, console)
    return Outcome(result.run_dir, result.val_accuracy, result.stopped)


def _fewer(run_dir: Path, request: SweepTraining) -> str:
    """What a finished run lacks against a larger --epochs: it is kept as it is, since more
    epochs on top of a finished schedule are not the run --epochs asks for."""
    completed = read_run(run_dir).epochs_completed
    if request.epochs is None or completed >= request.epochs:
        return ""
    return (
        f" ({completed} epoch(s), not the {request.epochs} asked: remove the directory to "
        "train it again)"
    )


def train_sweep(request: SweepTraining, console: Console) -> int:
    """Every valid configuration, one after another; the exit code of `netspec sweep`."""
    import_tensorflow(False)
    if request.tuner is not None:
        from compiler.tuner import tune

        return tune(request, console)
    from compiler.session import TrainingError

    directories = [request.runs / run_name(request, values) for values in request.configurations]
    count = len(directories)
    for number, (values, run_dir) in enumerate(
        zip(request.configurations, directories, strict=True), start=1
    ):
        state = run_state(run_dir)
        heading = f"configuration {number} of {count}: {values_text(values)} in {run_dir}"
        if state == "finished":
            console.print(f"{heading}: trained already{_fewer(run_dir, request)}", highlight=False)
            continue
        console.print(heading + (": resuming" if state == "interrupted" else ""), highlight=False)
        try:
            outcome = train_configuration(request, values, run_dir, console)
        except (TrainingError, NetspecError) as exc:
            print_diagnostics(console, exc.diagnostics, configuration_text(request, values))
            return 1
        if outcome.stopped:
            return STOPPED_BY_SIGTERM
    console.print(runs_table(read_runs(directories)))
    return 0
