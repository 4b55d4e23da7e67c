"""`netspec check` against building the same model in Keras and calling summary().

Both are timed as whole processes (interpreter start-up and imports included, since a
user pays them): the median of --repeat runs per spec.

    python benchmarks/check_speed.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.table import Table

from benchmarks.common import ROOT, median, time_command, write_results

# The console script a user runs, from the same environment as this interpreter.
NETSPEC = str(Path(sys.executable).with_name("netspec"))
KERAS_SUMMARY = (
    "import sys; from netspec.api import compile_file; from compiler.build import build_models;"
    " build_models(compile_file(sys.argv[1])).inference.summary(print_fn=lambda *a, **k: None)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    table = Table(
        "spec",
        "netspec check (s)",
        "Keras build + summary (s)",
        "ratio",
        title="Whole-process time, median of runs",
    )
    rows = []
    for spec in sorted((ROOT / "specs").glob("*.ns")):
        relative = str(spec.relative_to(ROOT))
        check = median(time_command([NETSPEC, "check", relative], args.repeat))
        keras = median(
            time_command([sys.executable, "-c", KERAS_SUMMARY, relative], max(1, args.repeat // 2))
        )
        rows.append({"spec": relative, "check_s": check, "keras_s": keras, "ratio": keras / check})
        table.add_row(relative, f"{check:.3f}", f"{keras:.2f}", f"{keras / check:.1f}x")
    write_results("check_speed", rows, table)


if __name__ == "__main__":
    main()
