"""`netspec check` against building the same model in Keras and calling summary().

Both are timed as whole processes (interpreter start-up and imports included, since a
user pays them): the median of --repeat runs per spec. For googlenet, a breakdown of where
`check`'s time goes: the interpreter, each import, parse, lower, analyse and render, each
the median over --repeat fresh processes that load the CLI as the `netspec` script does.

    python -m benchmarks.check_speed [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
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
BREAKDOWN_SPEC = "specs/googlenet.ns"

# Run in a fresh interpreter: each stage timed in the order `netspec check` meets it, the
# garbage collector handled as netspec/launch.py does. Prints {stage: seconds} as JSON.
STAGES = r"""
import gc, io, json, sys, time
gc.disable()
seconds = {}
def timed(stage, run):
    start = time.perf_counter()
    result = run()
    seconds[stage] = time.perf_counter() - start
    return result
def first_model():
    # Pydantic loads the rest of itself when the first model class is made.
    from pydantic import BaseModel
    class First(BaseModel):
        x: int
timed("import pydantic (and make a first model)", first_model)
timed("import typer", lambda: __import__("typer"))
timed("import rich", lambda: __import__("rich.console"))
timed("import lark", lambda: __import__("lark"))
timed("import netspec (its own modules)", lambda: __import__("netspec.cli"))
gc.freeze()
gc.enable()
from rich.console import Console
from netspec.analysis.analyse import analyse
from netspec.api import read_spec
from netspec.lowering import lower
from netspec.render import print_report
from netspec.syntax.parser import parse
text = read_spec(sys.argv[1])
tree = timed("parse", lambda: parse(text, sys.argv[1]))
network = timed("lower", lambda: lower(tree, sys.argv[1]))
report = timed("analyse", lambda: analyse(network))
console = Console(file=io.StringIO(), width=132, highlight=False, emoji=False)
timed("render", lambda: print_report(console, console, report, text))
print(json.dumps(seconds))
"""


def breakdown(spec: str, repeat: int) -> dict[str, float]:
    """Median seconds per stage of `check`, plus the interpreter alone and the whole run."""
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", STAGES, spec],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for _ in range(repeat)
    ]
    stages = {
        "interpreter (python -c pass)": median(time_command([sys.executable, "-c", "pass"], repeat))
    }
    stages |= {stage: median([run[stage] for run in runs]) for stage in runs[0]}
    whole = median(time_command([NETSPEC, "check", spec], repeat))
    stages["CLI dispatch, output and exit (the rest)"] = whole - sum(stages.values())
    stages["whole process: netspec check"] = whole
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    stages = breakdown(BREAKDOWN_SPEC, args.repeat)
    parts = Table("stage", "ms", title=f"netspec check {BREAKDOWN_SPEC}: medians of {args.repeat}")
    for stage, seconds in stages.items():
        parts.add_row(stage, f"{seconds * 1000:.1f}")

    table = Table(
        "spec",
        "netspec check (s)",
        "Keras build + summary (s)",
        "ratio",
        title="Whole-process time, median of runs",
    )
    rows: list[dict[str, object]] = []
    for spec in sorted((ROOT / "specs").glob("*.ns")):
        relative = str(spec.relative_to(ROOT))
        check = median(time_command([NETSPEC, "check", relative], args.repeat))
        keras = median(
            time_command([sys.executable, "-c", KERAS_SUMMARY, relative], max(3, args.repeat // 4))
        )
        rows.append({"spec": relative, "check_s": check, "keras_s": keras, "ratio": keras / check})
        table.add_row(relative, f"{check:.3f}", f"{keras:.2f}", f"{keras / check:.1f}x")
    rows.append({"breakdown": BREAKDOWN_SPEC, "stages_s": stages})
    write_results("check_speed", rows, parts, table)


if __name__ == "__main__":
    main()
