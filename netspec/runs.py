"""The experiment table: what each run directory `netspec train` wrote says about its run.

Read without TensorFlow: metrics.json (per-epoch history), spec.ns (parameters and
multiply-adds, by the static analysis) and whether the final model was saved. A run that was
killed or stopped is shown as such, never dropped.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from netspec.api import check_text
from netspec.diagnostics import NetspecError


class Run(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    directory: str
    network: str | None
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
    # `finished`, `stopped at epoch 3 of 10` (killed or stopped), `no epoch completed`.
    status: str
    history: tuple[dict[str, Any], ...]


def _static_figures(directory: Path) -> tuple[tuple[int, int, int] | None, int | None, int | None]:
    spec = directory / "spec.ns"
    if not spec.is_file():
        return None, None, None
    try:
        report = check_text(spec.read_text(encoding="utf-8"), str(spec))
    except (NetspecError, OSError, UnicodeDecodeError):
        return None, None, None
    totals = report.totals
    return report.input, totals.params if totals else None, totals.macs if totals else None


def _status(directory: Path, completed: int, planned: int | None) -> str:
    if completed == 0:
        return "no epoch completed"
    if (directory / "model.keras").is_file() and (planned is None or completed >= planned):
        return "finished"
    return f"stopped at epoch {completed} of {planned if planned else '?'}"


def read_run(directory: Path) -> Run:
    metrics_file = directory / "metrics.json"
    metrics: dict[str, Any] = {}
    if metrics_file.is_file():
        try:
            metrics = json.loads(metrics_file.read_text())
        except (json.JSONDecodeError, OSError):
            metrics = {}
    history = tuple(metrics.get("history", ()))
    accuracies = [e["val_accuracy"] for e in history if e.get("val_accuracy") is not None]
    planned = metrics.get("epochs_planned")
    input_size, params, macs = _static_figures(directory)
    return Run(
        directory=str(directory),
        network=metrics.get("network"),
        input=input_size,
        params=params,
        macs=macs,
        dataset=metrics.get("dataset"),
        precision=metrics.get("precision"),
        epochs_completed=len(history),
        epochs_planned=planned,
        best_accuracy=max(accuracies) if accuracies else None,
        last_accuracy=accuracies[-1] if accuracies else None,
        wall_seconds=sum(e.get("seconds", 0.0) + e.get("bn_seconds", 0.0) for e in history),
        images_per_second=history[-1].get("images_per_second") if history else None,
        status=_status(directory, len(history), planned),
        history=history,
    )


def run_directories(paths: list[Path]) -> list[Path]:
    """The run directories among `paths`: each one, or the runs inside a folder of runs."""
    found = []
    for path in paths:
        if (path / "metrics.json").exists() or (path / "spec.ns").exists():
            found.append(path)
        elif path.is_dir():
            found += sorted(p for p in path.iterdir() if (p / "spec.ns").exists())
    return found


def read_runs(paths: list[Path]) -> list[Run]:
    """Best test accuracy first; runs without one last."""
    runs = [read_run(directory) for directory in run_directories(paths)]
    return sorted(runs, key=lambda run: -(run.best_accuracy or -1.0))
