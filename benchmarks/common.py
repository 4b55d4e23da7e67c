"""Shared by the benchmark scripts: repeated timing, medians, and the result files."""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

RESULTS = Path(__file__).with_name("results")
ROOT = Path(__file__).resolve().parent.parent


def time_command(argv: Sequence[str], repeat: int) -> list[float]:
    """Wall-clock seconds of whole processes, as a user pays them (start-up included)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        times.append(time.perf_counter() - start)
        if done.returncode:
            raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}:\n{done.stderr}")
    return times


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def machine() -> dict[str, object]:
    import os

    from compiler.hardware import cpu_name

    return {
        "cpu": cpu_name(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def write_results(name: str, rows: list[dict[str, object]], *tables: Table) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=2))
    console = Console()
    for table in tables:
        console.print(table)
    console.print(f"wrote {path.relative_to(ROOT)}")
    return path
