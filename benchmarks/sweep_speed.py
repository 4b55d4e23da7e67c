"""`netspec sweep` over a space of 1,024 GoogLeNet configurations at 32x32: configurations
checked per second.

The whole command is timed as a user runs it (the console script, start-up included), the
median of --repeat runs; then the sweep alone in this process, on one worker and on one
per core, to show what the workers add. Each rejected configuration is counted by reason.

    python -m benchmarks.sweep_speed [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from rich.table import Table

from benchmarks.common import ROOT, median, time_command, write_results
from netspec.sweep import sweep

NETSPEC = str(Path(sys.executable).with_name("netspec"))
SPACE = "benchmarks/specs/googlenet_space.ns"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    text = (ROOT / SPACE).read_text(encoding="utf-8")
    result = sweep(text, SPACE)
    command = median(time_command([NETSPEC, "sweep", SPACE, "--json"], args.repeat))
    rows: list[dict[str, object]] = [
        {
            "how": "netspec sweep (whole process)",
            "workers": os.cpu_count(),
            "seconds": command,
            "per_second": result.size / command,
        }
    ]
    for workers in sorted({1, os.cpu_count() or 1}):
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            sweep(text, SPACE, workers=workers)
            times.append(time.perf_counter() - start)
        seconds = median(times)
        rows.append(
            {
                "how": "sweep() in process",
                "workers": workers,
                "seconds": seconds,
                "per_second": result.size / seconds,
            }
        )
    table = Table(
        title=f"{SPACE}: {result.size:,} configurations, {result.valid:,} valid; rejected: "
        + ", ".join(f"{reason} {count}" for reason, count in result.rejected.items()),
        title_justify="left",
    )
    for column in ("how", "workers", "seconds", "configurations/s"):
        table.add_column(column, justify="left" if column == "how" else "right")
    for row in rows:
        table.add_row(
            str(row["how"]),
            str(row["workers"]),
            f"{row['seconds']:.2f}",
            f"{row['per_second']:.0f}",
        )
    write_results(
        "sweep_speed",
        [*rows, {"size": result.size, "valid": result.valid, "rejected": result.rejected}],
        table,
    )


if __name__ == "__main__":
    main()
