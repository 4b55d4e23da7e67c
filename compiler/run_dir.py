"""The run directory: spec copy, metrics.json, history.csv, written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path
from typing import Any

HISTORY_FIELDS = (
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "lr",
    "seconds",
    "images_per_second",
)


def default_run_dir(network: str, root: Path = Path("runs")) -> Path:
    return root / f"{network}-{time.strftime('%Y%m%d-%H%M%S')}"


def newest_run_dir(network: str, root: Path = Path("runs")) -> Path | None:
    runs = sorted(root.glob(f"{network}-*"), key=lambda p: p.stat().st_mtime)
    return runs[-1] if runs else None


def write_atomically(path: Path, text: str) -> None:
    """A kill mid-write leaves the old file, never half a new one."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def read_history(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "metrics.json"
    return json.loads(path.read_text())["history"] if path.exists() else []


def write_metrics(run_dir: Path, history: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    last = history[-1] if history else {}
    metrics = {
        "epochs_completed": len(history),
        "val_accuracy": last.get("val_accuracy"),
        "val_loss": last.get("val_loss"),
        **extra,
        "history": history,
    }
    write_atomically(run_dir / "metrics.json", json.dumps(metrics, indent=2))
    table = io.StringIO()
    writer = csv.DictWriter(table, HISTORY_FIELDS, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(history)
    write_atomically(run_dir / "history.csv", table.getvalue())
