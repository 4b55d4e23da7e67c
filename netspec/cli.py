"""The `netspec` command: thin typer commands over the library, rendered with rich.

Exit codes: 0 success (warnings allowed), 1 a spec has errors (or warnings under --strict),
or training failed; 2 usage error.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from netspec import api
from netspec.analysis.report import Report
from netspec.render import print_report, sweep_table

app = typer.Typer(
    help="Design, check and train GoogLeNet / Inception-family networks from .ns specs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def netspec() -> None:
    """Design, check and train GoogLeNet / Inception-family networks from .ns specs."""


_SIZE = re.compile(r"^(\d+)(?:x(\d+)(?:x(\d+))?)?$")


def console() -> Console:
    # Wide enough for the layer table when output is piped (CI logs, files).
    return Console(width=None if sys.stdout.isatty() else 132, highlight=False)


def parse_input_sizes(value: str | None) -> list[api.InputSize]:
    """`32x32x3` -> one size; `32,64,224` -> a sweep of square sizes keeping the channels."""
    if value is None:
        return []
    sizes: list[api.InputSize] = []
    for part in value.split(","):
        match = _SIZE.match(part.strip())
        if not match or any(int(g) < 1 for g in match.groups() if g):
            raise typer.BadParameter(
                f"'{part}' is not a size: use 32, 32x32 or 32x32x3", param_hint="--input"
            )
        height, width, channels = match.groups()
        sizes.append((int(height), int(width or height), int(channels) if channels else None))
    return sizes


@app.command()
def check(
    specs: Annotated[
        list[Path], typer.Argument(help="Spec files (.ns) to check.", show_default=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the reports as JSON.")] = False,
    strict: Annotated[bool, typer.Option(help="Fail (exit 1) on warnings too.")] = False,
    input_size: Annotated[
        str | None,
        typer.Option(
            "--input",
            help="Check at another input size (32x32x3), or sweep sizes (32,64,224).",
            show_default=False,
        ),
    ] = None,
    layers: Annotated[bool, typer.Option(help="Show the per-layer table.")] = True,
) -> None:
    """Parse, validate and size every layer statically, without TensorFlow."""
    sizes = parse_input_sizes(input_size)
    texts: dict[str, str | None] = {}
    reports: list[Report] = []
    for spec in specs:
        try:
            texts[str(spec)] = api.read_spec(spec)
        except api.NetspecError:
            texts[str(spec)] = None
        for size in sizes or [None]:
            reports.append(api.check_file(spec, size))

    if as_json:
        payload = [report.as_json() for report in reports]
        print(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        out = console()
        for report in reports:
            print_report(out, report, texts[report.file], show_layers=layers and len(sizes) <= 1)
        if len(sizes) > 1:
            for spec in specs:
                out.print(sweep_table([r for r in reports if r.file == str(spec)]))

    failed = any(r.has_errors or (strict and r.has_warnings) for r in reports)
    raise typer.Exit(1 if failed else 0)
