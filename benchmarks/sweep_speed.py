"""`netspec sweep` over a space of 1,024 GoogLeNet configurations at 32x32: configurations
checked per second.

The whole command is timed as a user runs it (the console script, start-up included), the
median of --repeat runs; then the sweep alone in this process, on one worker and on one
per core, to show what the workers add. Each rejected configuration is counted by reason.
Beside the wall-clock rate: the CPU time per configuration (this process and its workers),
which other work on a shared machine disturbs less, and the load average while it ran.

    python -m benchmarks.sweep_speed [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

from rich.table import Table

from benchmarks.common import ROOT, median, time_command, write_results
from netspec.sweep import sweep

NETSPEC = str(Path(sys.executable).with_name("netspec"))
SPACE = "benchmarks/specs/googlenet_space.ns"


def _cpu() -> float:
    """CPU seconds of this process and of the children it has waited for (the workers, the
    command and its workers)."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = (ROOT / SPACE).read_text(encoding="utf-8")
    result = sweep(text, SPACE)
    rows: list[dict[str, object]] = []

    def add(how: str, workers: int, seconds: list[float], cpu: float) -> None:
        rows.append(
            {
                "how": how,
                "workers": workers,
                "seconds": median(seconds),
                "per_second": result.size / median(seconds),
                "cpu_ms_per_configuration": 1000 * cpu / (result.size * len(seconds)),
                "load_average": os.getloadavg()[0],
            }
        )

    before = _cpu()
    command = time_command([NETSPEC, "sweep", SPACE, "--json"], args.repeat)
    add("netspec sweep (whole process)", os.cpu_count() or 1, command, _cpu() - before)
    for workers in sorted({1, os.cpu_count() or 1}):
        times = []
        before = _cpu()
        for _ in range(args.repeat):
            start = time.perf_counter()
            sweep(text, SPACE, workers=workers)
            times.append(time.perf_counter() - start)
        add("sweep() in process", workers, times, _cpu() - before)
    table = Table(
        title=f"{SPACE}: {result.size:,} configurations, {result.valid:,} valid; rejected: "
        + ", ".join(f"{reason} {count}" for reason, count in result.rejected.items()),
        title_justify="left",
    )
    columns = ("how", "workers", "seconds", "configurations/s", "CPU ms each", "load")
    for column in columns:
        table.add_column(column, justify="left" if column == "how" else "right")
    for row in rows:
        table.add_row(
            str(row["how"]),
            str(row["workers"]),
            f"{row['seconds']:.2f}",
            f"{row['per_second']:.0f}",
            f"{row['cpu_ms_per_configuration']:.1f}",
            f"{row['load_average']:.1f}",
        )
    write_results(
        "sweep_speed",
        [*rows, {"size": result.size, "valid": result.valid, "rejected": result.rejected}],
        table,
    )


if __name__ == "__main__":
    main()
