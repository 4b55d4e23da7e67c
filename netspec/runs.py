"""The experiment table: what each run directory `netspec train` wrote says about its run.

Read without TensorFlow, from the run's records (netspec.records): the run record (the
settings it used, parameters and multiply-adds) and the per-epoch metrics, and whether the
final model was saved. A run that was killed or stopped is shown as such, never dropped;
a run whose records cannot be read is listed with the reason.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from netspec.records import (
    METRICS_FILE,
    MODEL_FILE,
    RUN_FILE,
    SPEC_FILE,
    EpochRecord,
    RecordError,
    RunRecord,
    read_metrics,
    read_run_record,
)


class Run(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    directory: str
    network: str | None
    # The search values it trained (`netspec sweep --train`); None for a run of a plain spec.
    configuration: dict[str, int | float] | None
    input: tuple[int, int, int] | None
    params: int | None
    macs: int | None
    dataset: str | None
    precision: str | None
    epochs_completed: int
    epochs_planned: int | None
    best_accuracy: float | None
    last_accuracy: float | None
    wall_seconds: float
    images_per_second: float | None
    # `finished`, `stopped at epoch 3 of 10` (killed or stopped), `no epoch completed`, or
    # why the records cannot be read.
    status: str
    history: tuple[EpochRecord, ...]


def _status(directory: Path, completed: int, planned: int | None) -> str:
    if completed == 0:
        return "no epoch completed"
    if (directory / MODEL_FILE).is_file() and (planned is None or completed >= planned):
        return "finished"
    return f"stopped at epoch {completed} of {planned if planned else '?'}"


def read_run(directory: Path) -> Run:
    record: RunRecord | None = None
    try:
        record = read_run_record(directory)
        metrics = read_metrics(directory)
    except RecordError as exc:
        return _unreadable(directory, record, str(exc))
    history = metrics.history if metrics else ()
    accuracies = [epoch.val_accuracy for epoch in history]
    planned = record.config.epochs
    return Run(
        directory=str(directory),
        network=record.network,
        configuration=record.configuration,
        input=record.input,
        params=record.params,
        macs=record.macs,
        dataset=record.config.dataset.name,
        precision=record.precision,
        epochs_completed=len(history),
        epochs_planned=planned,
        best_accuracy=max(accuracies) if accuracies else None,
        last_accuracy=accuracies[-1] if accuracies else None,
        wall_seconds=sum(epoch.seconds + epoch.bn_seconds for epoch in history),
        images_per_second=history[-1].images_per_second if history else None,
        status=_status(directory, len(history), planned),
        history=history,
    )


def _unreadable(directory: Path, record: RunRecord | None, reason: str) -> Run:
    return Run(
        directory=str(directory),
        network=record.network if record else None,
        configuration=record.configuration if record else None,
        input=record.input if record else None,
        params=record.params if record else None,
        macs=record.macs if record else None,
        dataset=record.config.dataset.name if record else None,
        precision=record.precision if record else None,
        epochs_completed=0,
        epochs_planned=record.config.epochs if record else None,
        best_accuracy=None,
        last_accuracy=None,
        wall_seconds=0.0,
        images_per_second=None,
        status=f"unreadable: {reason}",
        history=(),
    )


def _is_run(path: Path) -> bool:
    return any((path / name).exists() for name in (RUN_FILE, METRICS_FILE, SPEC_FILE))


def run_directories(paths: list[Path]) -> list[Path]:
    """The run directories among `paths`: each one, or the runs inside a folder of runs."""
    found = []
    for path in paths:
        if _is_run(path):
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.iterdir() if _is_run(p))
    return found


def read_runs(paths: list[Path]) -> list[Run]:
    """Best test accuracy first; runs without one last."""
    runs = [read_run(directory) for directory in run_directories(paths)]
    return sorted(runs, key=lambda run: -(run.best_accuracy or -1.0))
