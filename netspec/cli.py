"""The `netspec` command: thin typer commands over the library, rendered with rich.

The backend's commands (build, train, export, ...) live in `compiler/cli.py`; `main` mounts
every `netspec.commands` entry point, so this module never imports the compiler.

Exit codes: 0 success (warnings allowed), 1 a spec has errors (or warnings, not notes, under
--strict); 2 usage error. The backend adds its own (compiler/cli.py).
"""

from __future__ import annotations

import json
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from netspec import api
from netspec.analysis.report import Report
from netspec.cli_help import Command, Group
from netspec.render import print_diagnostics, print_report, sweep_table
from netspec.sweep_training import SweepTraining, Tuner, find_trainer

app = typer.Typer(
    cls=Group,
    help="Design, check and train GoogLeNet / Inception-family networks from .ns specs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def netspec() -> None:
    """Design, check and train GoogLeNet / Inception-family networks from .ns specs."""


SWEEP_TRAINING = "Training the valid configurations"
# What the backend's commands need beyond the front end.
INSTALL_BACKEND = "pip install 'netspec[cpu]' (or [gpu])"
_SIZE = re.compile(r"^(\d+)(?:x(\d+)(?:x(\d+))?)?$")


def console(*, stderr: bool = False, piped_width: int = 132) -> Console:
    # Wide enough for the layer table when output is piped (CI logs, files). No emoji codes:
    # `:name:` in a spec or a path is text (and rich's emoji table takes 2 ms to load).
    stream = sys.stderr if stderr else sys.stdout
    return Console(
        width=None if stream.isatty() else piped_width, stderr=stderr, highlight=False, emoji=False
    )


# The runs table's columns, wider than the layer table's, none cut when piped.
RUNS_WIDTH = 200


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


class Format(str, Enum):
    table = "table"
    json = "json"
    sarif = "sarif"


@app.command(cls=Command)
def check(
    specs: Annotated[
        list[Path] | None,
        typer.Argument(metavar="SPEC...", help="Spec files (.ns) to check.", show_default=False),
    ] = None,
    output_format: Annotated[
        Format,
        typer.Option(
            "--format",
            help="table: for people (diagnostics on stderr); json; sarif (SARIF 2.1.0).",
            rich_help_panel="Output",
        ),
    ] = Format.table,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Same as --format json.", rich_help_panel="Output"),
    ] = False,
    json_schema: Annotated[
        bool,
        typer.Option(
            "--json-schema",
            help="Print the JSON Schema of the --json output and exit.",
            rich_help_panel="Output",
        ),
    ] = False,
    strict: Annotated[
        bool, typer.Option(help="Fail (exit 1) on warnings too (never on notes).")
    ] = False,
    input_size: Annotated[
        str | None,
        typer.Option(
            "--input",
            metavar="HxWxC,...",
            help="Check at another input size (32x32x3), or sweep sizes (32,64,224).",
            show_default=False,
        ),
    ] = None,
    layers: Annotated[
        bool, typer.Option(help="Show the layer table.", rich_help_panel="Output")
    ] = True,
    all_layers: Annotated[
        bool,
        typer.Option(
            "--all-layers",
            help="One row per layer, branches included (default: one row per "
            "trunk layer, instance and aux head).",
            rich_help_panel="Output",
        ),
    ] = False,
) -> None:
    """Parse, validate and size every layer statically, without TensorFlow."""
    if json_schema:
        from netspec.json_output import check_json_schema

        print(json.dumps(check_json_schema(), indent=2))
        raise typer.Exit(0)
    if not specs:
        raise typer.BadParameter("give at least one spec file", param_hint="SPEC...")
    sizes = parse_input_sizes(input_size)
    texts: dict[str, str | None] = {}
    reports: list[Report] = []
    for spec in specs:
        at_sizes: list[api.InputSize | None] = [*sizes] or [None]  # None: the spec's own
        for size in at_sizes:
            checked = api.check_path(spec, size)
            texts[str(spec)] = checked.text
            reports.append(checked.report)

    sweep = len(sizes) > 1
    if as_json or output_format is Format.json:
        from netspec.json_output import check_json

        print(check_json(reports))
    elif output_format is Format.sarif:
        from netspec.sarif import sarif_json

        print(sarif_json(reports, sweep=sweep))
    else:
        out, errors = console(), console(stderr=True)
        for report in reports:
            print_report(
                out,
                errors,
                report,
                texts[report.file],
                show_layers=layers and not sweep,
                every_layer=all_layers,
                in_sweep=sweep,
            )
        if sweep:
            for spec in specs:
                out.print(sweep_table([r for r in reports if r.file == str(spec)]))

    failed = any(r.has_errors or (strict and r.has_warnings) for r in reports)
    raise typer.Exit(1 if failed else 0)


@app.command(cls=Command)
def diff(
    spec_a: Annotated[
        Path | None,
        typer.Argument(metavar="A", help="The spec to compare from (.ns).", show_default=False),
    ] = None,
    spec_b: Annotated[
        Path | None,
        typer.Argument(
            metavar="B",
            help="The spec to compare with (default: A itself, at --vs-input).",
            show_default=False,
        ),
    ] = None,
    input_size: Annotated[
        str | None,
        typer.Option(
            "--input",
            metavar="HxWxC",
            help="Check both at this input size (A alone when --vs-input is given).",
            show_default=False,
        ),
    ] = None,
    vs_input: Annotated[
        str | None,
        typer.Option(
            "--vs-input",
            metavar="HxWxC",
            help="Check B at this input size.",
            show_default=False,
        ),
    ] = None,
    statements: Annotated[
        bool,
        typer.Option(
            "--layers",
            help="Each section's rows below it: its statements, instances and aux heads "
            "(default: one row per section).",
            rich_help_panel="Output",
        ),
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="The diff as JSON, every row included.", rich_help_panel="Output"
        ),
    ] = False,
    json_schema: Annotated[
        bool,
        typer.Option(
            "--json-schema",
            help="Print the JSON Schema of the --json output and exit.",
            rich_help_panel="Output",
        ),
    ] = False,
) -> None:
    """Compare two specs, or one at two input sizes, section by section.

    Rows are aligned by section and statement name: each side's output, parameters,
    multiply-adds and receptive field with B's change; rows only in B are marked +, only in
    A -. Then the totals and the diagnostics each side has and the other has not. Errors
    are printed as `check` prints them, and exit 1.
    """
    from netspec.diff import NetworkDiff, diff_reports

    if json_schema:
        print(json.dumps(NetworkDiff.model_json_schema(mode="serialization"), indent=2))
        raise typer.Exit(0)
    if spec_a is None:
        raise typer.BadParameter("give the spec to compare from", param_hint="A")
    if spec_b is None and vs_input is None:
        raise typer.BadParameter(
            "give a second spec, or --vs-input to compare two sizes", param_hint="B"
        )
    sizes = []
    for option, value in (("--input", input_size), ("--vs-input", vs_input)):
        try:
            parsed = parse_input_sizes(value)
        except typer.BadParameter as exc:
            exc.param_hint = option
            raise
        if len(parsed) > 1:
            raise typer.BadParameter("compare one input size at a time", param_hint=option)
        sizes.append(parsed[0] if parsed else None)
    size_a, size_b = sizes[0], sizes[1] or sizes[0]
    checked = [api.check_path(spec_a, size_a), api.check_path(spec_b or spec_a, size_b)]
    errors = console(stderr=True)
    for side in checked:
        failures = tuple(d for d in side.report.diagnostics if d.is_error)
        print_diagnostics(errors, failures, side.text)
    compared = diff_reports(checked[0].report, checked[1].report)
    if as_json:
        print(compared.model_dump_json(indent=2))
    elif all(side.report.layers for side in checked):
        from netspec.diff_table import print_diff

        print_diff(console(), compared, statements=statements)
    raise typer.Exit(1 if any(side.report.has_errors for side in checked) else 0)


@app.command(cls=Command)
def fmt(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="FILE...",
            help="Spec files (.ns), or folders to format every .ns file under.",
            show_default=False,
        ),
    ] = None,
    check_only: Annotated[
        bool,
        typer.Option("--check", help="Write nothing; exit 1 naming the files that would change."),
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print the changes as a unified diff; write nothing.")
    ] = False,
) -> None:
    """Rewrite specs in place in the one canonical layout, keeping comments and meaning."""
    import difflib

    from netspec.diagnostics import NetspecError
    from netspec.formatting import format_text, meaning, spec_files

    if not paths:
        raise typer.BadParameter("give at least one spec file or folder", param_hint="FILE...")
    if missing := [str(path) for path in paths if not path.exists()]:
        raise typer.BadParameter(f"no such file or folder: {', '.join(missing)}")
    errors = console(stderr=True)
    changed: list[Path] = []
    failed = False
    for path in spec_files(paths):
        text = None
        try:
            text = api.read_spec(path)
            formatted = format_text(text, str(path))
        except NetspecError as exc:
            print_diagnostics(errors, exc.diagnostics, text)
            failed = True
            continue
        if formatted == text:
            continue
        if meaning(formatted) != meaning(text):
            errors.print(
                f"error: {path}: formatting would change what the spec means or drop a "
                "comment, so it is left as it is (a bug in netspec fmt: please report it)",
                markup=False,
            )
            failed = True
            continue
        changed.append(path)
        if diff:
            lines = difflib.unified_diff(
                text.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                f"{path} (as written)",
                f"{path} (formatted)",
            )
            sys.stdout.writelines(lines)
        elif check_only:
            print(f"would reformat {path}")
        else:
            path.write_text(formatted, encoding="utf-8")
    verb = "reformatted" if not (check_only or diff) else "would be reformatted"
    errors.print(f"{len(changed)} file(s) {verb}", markup=False)
    raise typer.Exit(1 if failed or ((check_only or diff) and changed) else 0)


@app.command(cls=Command)
def fit(
    spec: Annotated[Path, typer.Argument(help="Spec file (.ns).", show_default=False)],
    input_size: Annotated[
        str,
        typer.Option(
            "--input", metavar="HxWxC", help="The input to fit the network to.", show_default=False
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the fitted spec here.", show_default=False),
    ] = None,
    max_macs: Annotated[
        int | None,
        typer.Option(
            "--max-macs",
            metavar="N",
            min=1,
            help="The fitted network may need at most N multiply-adds per image.",
            show_default=False,
        ),
    ] = None,
    min_grid: Annotated[
        int | None,
        typer.Option(
            "--min-grid",
            metavar="N",
            min=1,
            help="The smallest feature map on the main path before the head (the map the "
            "head gets; aux heads not counted) must be at least N on its shorter side.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Trim strides and pools until the network keeps a real grid at a small input.

    Finds the fewest edits that leave no error (window-too-large among them) and no
    collapse at --input, preferring, in order: a stride of a stem layer lowered to 1, a
    stem pool dropped, a pool between stages given stride 1, any other stride in a stage
    lowered, a pool between stages dropped. Inception blocks, module instances, aux heads
    and the head are kept, and no edit adds a parameter. Prints the edits as a unified
    diff of the spec in canonical layout (comments kept) and the sections before and
    after. Exit 0 when fitted or nothing needs fitting, 1 when no edit within the rules fits.
    """
    import difflib

    from netspec.diagnostics import NetspecError
    from netspec.diff import diff_reports
    from netspec.diff_table import print_diff
    from netspec.fit import fit as fit_spec
    from netspec.fit import smallest_grid
    from netspec.render import si

    sizes = parse_input_sizes(input_size)
    if len(sizes) != 1:
        raise typer.BadParameter("fit to one input size", param_hint="--input")
    size = sizes[0]
    height, width, channels = size
    at = f"{height}x{width}" + (f"x{channels}" if channels else "")
    errors = console(stderr=True)
    try:
        text = api.read_spec(spec)
    except NetspecError as exc:
        print_diagnostics(errors, exc.diagnostics, None)
        raise typer.Exit(1) from None
    fitted_file = str(output) if output else f"{spec} (fitted)"
    result = fit_spec(text, str(spec), size, max_macs, min_grid, fitted_file)
    if result.after is None:
        if result.before.spec is None:
            print_diagnostics(errors, result.before.report.diagnostics, text)
        errors.print(f"cannot fit {spec} to {at}: {result.reason}", markup=False)
        raise typer.Exit(1)
    out = console()
    if not result.edits:
        grid = smallest_grid(result.after.report)
        out.print(
            f"nothing to fit: {spec} builds at {at} with no collapse; the shorter side of "
            f"the map the head gets is {grid}",
            markup=False,
        )
    else:
        canonical = "" if result.original == text else " (in canonical layout)"
        out.print(f"{len(result.edits)} edit(s), {result.checks} set(s) checked:", markup=False)
        for edit in result.edits:
            out.print(f"  {edit}", markup=False)
        sys.stdout.writelines(
            difflib.unified_diff(
                result.original.splitlines(keepends=True),
                result.fitted.splitlines(keepends=True),
                f"{spec}{canonical}",
                f"{output or spec} (fitted to {at})",
            )
        )
        sys.stdout.flush()
        print_diff(out, diff_reports(result.before.report, result.after.report))
        before, after = result.before.report.totals, result.after.report.totals
        assert after is not None  # a fit has no errors
        if before is not None:
            out.print(
                f"parameters {before.params:,} -> {after.params:,}; multiply-adds "
                f"{si(before.macs, 'MAC')} -> {si(after.macs, 'MAC')} "
                f"(x{after.macs / before.macs:.1f})",
                markup=False,
            )
    if output is not None:
        output.write_text(result.fitted, encoding="utf-8")
        errors.print(f"wrote {output}", markup=False)


@app.command(cls=Command)
def graph(
    spec: Annotated[Path, typer.Argument(help="Spec file (.ns).", show_default=False)],
    output: Annotated[
        Path,
        typer.Option(
            "-o", "--output", help="The picture: .svg, .png, .pdf, or .dot for the Graphviz source."
        ),
    ],
    expand: Annotated[
        bool, typer.Option("--expand", help="One box per layer, not per statement and instance.")
    ] = False,
    input_size: Annotated[
        str | None,
        typer.Option(
            "--input",
            metavar="HxWxC",
            help="Draw at another input size (32x32x3).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Draw the network with Graphviz: layers that see only padding in a warning colour."""
    import graphviz

    from netspec.graph import network_graph

    formats = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}
    if output.suffix not in formats:
        raise typer.BadParameter("use a .svg, .png, .pdf or .dot file", param_hint="--output")
    sizes = parse_input_sizes(input_size)
    if len(sizes) > 1:
        raise typer.BadParameter("draw one input size at a time", param_hint="--input")
    errors = console(stderr=True)
    checked = api.check_path(spec, sizes[0] if sizes else None)
    print_diagnostics(errors, checked.report.diagnostics, checked.text)
    if checked.network is None:
        raise typer.Exit(1)
    picture = network_graph(checked.network, checked.report, expand=expand)
    try:
        data = (
            picture.source.encode()
            if output.suffix == ".dot"
            else picture.pipe(format=formats[output.suffix])
        )
    except graphviz.ExecutableNotFound:
        errors.print("error: Graphviz's `dot` is not installed (Debian: apt-get install graphviz)")
        raise typer.Exit(1) from None
    output.write_bytes(data)
    console().print(f"wrote {output}")


@app.command(cls=Command)
def sweep(
    spec: Annotated[Path, typer.Argument(help="Spec file (.ns) with a `search:` section.")],
    input_size: Annotated[
        str | None,
        typer.Option(
            "--input",
            metavar="HxWxC",
            help="Check every configuration at another input size (32x32x3).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Write each valid configuration to this folder as a spec of its own.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="The counts by reason and every configuration (values, verdict, totals).",
            rich_help_panel="Output",
        ),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="List only the first N valid configurations.", show_default=False),
    ] = None,
    train: Annotated[
        bool,
        typer.Option(
            "--train",
            help="Then train each valid configuration as a run of its own, named by its "
            "values; run again, it skips finished runs and resumes an interrupted one.",
            rich_help_panel=SWEEP_TRAINING,
        ),
    ] = False,
    tuner: Annotated[
        Tuner | None,
        typer.Option(
            help="Let Keras Tuner choose among the valid configurations only; several "
            "machines share its trials through KERASTUNER_* (README).",
            show_default=False,
            rich_help_panel=SWEEP_TRAINING,
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Override each run's `epochs` (Hyperband's most epochs for one trial).",
            show_default=False,
            rich_help_panel=SWEEP_TRAINING,
        ),
    ] = None,
    max_trials: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Trials for --tuner random or bayesian (default: every valid configuration).",
            show_default=False,
            rich_help_panel=SWEEP_TRAINING,
        ),
    ] = None,
    steps_per_epoch: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Cap the training steps per epoch (quick trials).",
            show_default=False,
            rich_help_panel=SWEEP_TRAINING,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Override the random seed.",
            show_default=False,
            rich_help_panel=SWEEP_TRAINING,
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where to look for the dataset first.",
            show_default=False,
            rich_help_panel=SWEEP_TRAINING,
        ),
    ] = None,
    runs_dir: Annotated[
        Path,
        typer.Option("--runs", help="Folder for the runs.", rich_help_panel=SWEEP_TRAINING),
    ] = Path("runs"),
) -> None:
    """Check every configuration of the spec's search space statically; train the valid ones.

    Counts the valid ones and the rejected ones by reason (an error's code, `collapse`, a
    budget), lists the valid ones by multiply-adds and the Pareto front of parameters
    against multiply-adds. Exits 1 when the spec or its space has errors or none is valid.
    With --train or --tuner, trains the valid ones (needs TensorFlow: netspec's cpu or gpu extra).
    """
    from netspec.diagnostics import NetspecError
    from netspec.sweep import sweep as sweep_space
    from netspec.sweep import write_configurations
    from netspec.sweep_table import print_sweep

    sizes = parse_input_sizes(input_size)
    if len(sizes) > 1:
        raise typer.BadParameter("sweep at one input size at a time", param_hint="--input")
    training = train or tuner is not None
    if training and sizes:
        raise typer.BadParameter(
            "runs train at the spec's own input: write it in the spec", param_hint="--input"
        )
    errors = console(stderr=True)
    text = None
    try:
        text = api.read_spec(spec)
        result = sweep_space(text, str(spec), sizes[0] if sizes else None)
    except NetspecError as exc:
        print_diagnostics(errors, exc.diagnostics, text)
        raise typer.Exit(1) from None
    if as_json:
        print(result.model_dump_json(indent=2))
    else:
        print_sweep(console(), result, limit=limit)
    valid = [c for c in result.configurations if c.valid]
    if output is not None:
        output.mkdir(parents=True, exist_ok=True)
        written = write_configurations(text, str(spec), valid, output)
        errors.print(f"wrote {len(written)} spec(s) to {output}", markup=False)
    if not result.valid:
        raise typer.Exit(1)
    if training:
        request = SweepTraining(
            text=text,
            file=str(spec),
            configurations=tuple(c.values for c in valid),
            runs=runs_dir,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            data_dir=data_dir,
            seed=seed,
            tuner=tuner,
            max_trials=max_trials,
        )
        raise typer.Exit(_train_sweep(request))
    raise typer.Exit(0)


def _train_sweep(request: SweepTraining) -> int:
    """The backend's trainer runs the sweep; without a backend, say how to install one."""
    trainer = find_trainer()
    if trainer is None:
        console(stderr=True).print(
            f"error: training needs the netspec backend: {INSTALL_BACKEND}",
            markup=False,
            soft_wrap=True,
        )
        return 1
    return trainer(request, console(piped_width=RUNS_WIDTH))


@app.command(cls=Command)
def runs(
    directories: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="DIR...",
            help="Run directories, or folders of them (default: runs/).",
            show_default=False,
        ),
    ] = None,
    plot: Annotated[
        Path | None,
        typer.Option(
            help="Draw every run's test accuracy and loss per epoch (.png).", show_default=False
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
) -> None:
    """The experiment table: every run directory, best test accuracy first."""
    from netspec.render import runs_table
    from netspec.runs import read_runs

    found = read_runs(directories or [Path("runs")])
    if as_json:
        print(json.dumps([run.model_dump() for run in found], indent=2))
    else:
        console(piped_width=RUNS_WIDTH).print(runs_table(found))
    if plot is not None:
        from netspec.plots import plot_runs

        drawn = plot_runs(found, plot)
        console(stderr=True).print(f"wrote {plot}: {drawn} curve(s)")
    if not found:
        console(stderr=True).print("no run directories found")
        raise typer.Exit(1)


@app.command(cls=Command)
def lsp() -> None:
    """Run the language server (stdin/stdout) for editors.

    Diagnostics as you type, hover, go-to-definition of modules, completion.
    """
    # pygls loads here only: `check` never pays for it.
    from netspec.lsp.server import serve

    serve()


import_app = typer.Typer(
    cls=Group, help="Write a spec from another framework's network file.", no_args_is_help=True
)
app.add_typer(import_app, name="import")


@import_app.command("caffe", cls=Command)
def import_caffe(
    deploy: Annotated[
        Path, typer.Argument(metavar="DEPLOY.prototxt", help="The network, as Caffe deploys it.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="SPEC", help="The spec file to write.")
    ],
    train_val: Annotated[
        Path | None,
        typer.Option(
            "--train-val",
            metavar="TRAIN_VAL.prototxt",
            help="The training network too: its aux heads become `aux` heads with their loss "
            "weights.",
        ),
    ] = None,
) -> None:
    """Import a Caffe network (.prototxt) as a spec; exit 1 naming every layer it cannot."""
    from netspec.caffe import import_caffe
    from netspec.diagnostics import NetspecError

    if missing := [str(path) for path in (deploy, train_val) if path and not path.is_file()]:
        raise typer.BadParameter(f"no such file: {', '.join(missing)}")
    try:
        spec = import_caffe(deploy, train_val)
    except NetspecError as exc:
        # Each diagnostic with the line of its own file under it.
        texts = {
            str(path): path.read_text(encoding="utf-8") for path in (deploy, train_val) if path
        }
        for diagnostic in exc.diagnostics:
            print_diagnostics(console(stderr=True), [diagnostic], texts.get(diagnostic.file))
        raise typer.Exit(1) from None
    output.write_text(spec, encoding="utf-8")
    console(stderr=True).print(f"wrote {output}", markup=False)


def mount_backends() -> None:
    """Add the commands of every installed backend (entry point group `netspec.commands`)."""
    from importlib.metadata import entry_points

    for entry_point in entry_points(group="netspec.commands"):
        entry_point.load()(app)


def front_end_commands() -> set[str]:
    return {
        command.name or command.callback.__name__
        for command in app.registered_commands
        if command.callback
    }


def main() -> None:
    """The `netspec` command: the front end's commands plus the installed backends'.

    A front-end command (`check`, ...) runs without looking for backends: discovering them
    reads every installed package's metadata, which `check` should not pay for. Everything
    else (help, a backend's command, a mistyped one) sees the whole app.
    """
    arguments = sys.argv[1:]
    if not arguments or arguments[0] not in front_end_commands():
        mount_backends()
    app()
