"""The `netspec` command: thin typer commands over the library, rendered with rich.

Exit codes: 0 success (warnings allowed), 1 a spec has errors (or warnings under --strict),
or training failed; 2 usage error; 143 (128 + SIGTERM) training was stopped by SIGTERM after
saving a checkpoint: rerun with --resume (schedulers count 128+ as retryable).
"""

from __future__ import annotations

import json
import re
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from netspec import api
from netspec.analysis.report import Report
from netspec.ir.training import DatasetName
from netspec.render import print_diagnostics, print_report, sweep_table

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
_INTERVAL = re.compile(r"^(\d+)(m?)$")
STOPPED_BY_SIGTERM = 128 + 15


def console(*, stderr: bool = False) -> Console:
    # Wide enough for the layer table when output is piped (CI logs, files).
    stream = sys.stderr if stderr else sys.stdout
    return Console(width=None if stream.isatty() else 132, stderr=stderr, highlight=False)


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


def parse_checkpoint_every(value: str) -> tuple[int | None, float | None]:
    """`500` -> every 500 optimizer steps; `10m` -> every 10 minutes: (steps, seconds)."""
    match = _INTERVAL.match(value.strip())
    if not match or int(match.group(1)) < 1:
        raise typer.BadParameter(
            f"'{value}' is neither a number of steps (500) nor of minutes (10m)",
            param_hint="--checkpoint-every",
        )
    count = int(match.group(1))
    return (None, count * 60.0) if match.group(2) else (count, None)


class Format(str, Enum):
    table = "table"
    json = "json"
    sarif = "sarif"


@app.command()
def check(
    specs: Annotated[
        list[Path] | None,
        typer.Argument(help="Spec files (.ns) to check.", show_default=False),
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
    strict: Annotated[bool, typer.Option(help="Fail (exit 1) on warnings too.")] = False,
    input_size: Annotated[
        str | None,
        typer.Option(
            "--input",
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
        raise typer.BadParameter("give at least one spec file", param_hint="SPECS")
    sizes = parse_input_sizes(input_size)
    texts: dict[str, str | None] = {}
    reports: list[Report] = []
    for spec in specs:
        try:
            texts[str(spec)] = api.read_spec(spec)
        except api.NetspecError:
            texts[str(spec)] = None
        at_sizes: list[api.InputSize | None] = [*sizes] or [None]  # None: the spec's own
        for size in at_sizes:
            reports.append(api.check_file(spec, size))

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


def _compile_or_exit(spec: Path, out: Console) -> tuple[api.Network, str]:
    """The checked network, or the diagnostics and exit 1: nothing half-valid reaches Keras."""
    from netspec.analysis.analyse import analyse

    try:
        text = api.read_spec(spec)
        network = api.compile_text(text, str(spec))
    except api.NetspecError as exc:
        print_diagnostics(out, exc.diagnostics, locals().get("text"))
        raise typer.Exit(1) from None
    problems = [d for d in analyse(network).diagnostics if d.is_error]
    if problems:
        print_diagnostics(out, problems, text)
        raise typer.Exit(1)
    return network, text


@app.command()
def build(
    spec: Annotated[Path, typer.Argument(help="Spec file (.ns).", show_default=False)],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to save the inference model (.keras).")
    ] = Path("model.keras"),
) -> None:
    """Compile a spec to Keras and save the inference model (aux heads dropped)."""
    out = console()
    network, _ = _compile_or_exit(spec, out)
    from compiler.build import save_inference_model

    model = save_inference_model(network, output)
    out.print(f"saved {network.name} ({model.count_params():,} parameters) to {output}")


@app.command()
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
        typer.Option("--input", help="Draw at another input size (32x32x3).", show_default=False),
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
    try:
        text = api.read_spec(spec)
        network = api.compile_text(text, str(spec), sizes[0] if sizes else None)
    except api.NetspecError as exc:
        print_diagnostics(errors, exc.diagnostics, locals().get("text"))
        raise typer.Exit(1) from None
    report = api.check_text(text, str(spec), sizes[0] if sizes else None)
    print_diagnostics(errors, report.diagnostics, text)
    picture = network_graph(network, report, expand=expand)
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


@app.command()
def runs(
    directories: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Run directories, or folders of them (default: runs/).", show_default=False
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
        # Thirteen columns: wider than the layer table when piped, so none is cut.
        Console(width=None if sys.stdout.isatty() else 200, highlight=False).print(
            runs_table(found)
        )
    if plot is not None:
        from netspec.plots import plot_runs

        drawn = plot_runs(found, plot)
        console(stderr=True).print(f"wrote {plot}: {drawn} curve(s)")
    if not found:
        console(stderr=True).print("no run directories found")
        raise typer.Exit(1)


# compiler.distribute.STRATEGIES, written out here: reading it would load TensorFlow.
Strategy = Literal["auto", "default", "mirrored", "multi-worker"]

SCHEDULE = "Training (overrides the spec's train: section)"
DATA = "Data"
RUN = "Run"
SPEED = "Speed and measurement"
# The on/off pairs apart: their second names would squeeze the other options' columns.
COMPUTE = "Precision and compilation"


def positive(value: float | None) -> float | None:
    """The learning rate must be > 0, as the spec's `lr=` must (typer's `min` allows 0)."""
    if value is not None and value <= 0:
        raise typer.BadParameter(f"{value:g} is not > 0")
    return value


@app.command()
def lsp() -> None:
    """Run the language server on stdin/stdout, for editors: diagnostics as you type,
    hover, go-to-definition of modules, completion."""
    # pygls loads here only: `check` never pays for it.
    from netspec.lsp.server import serve

    serve()


@app.command()
def train(
    spec: Annotated[
        Path, typer.Argument(help="Spec file (.ns) with a train: section.", show_default=False)
    ],
    epochs: Annotated[
        int | None, typer.Option(min=1, help="Override `epochs`.", rich_help_panel=SCHEDULE)
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Override `batch` (global: split across replicas).",
            rich_help_panel=SCHEDULE,
        ),
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(
            callback=positive,
            help="Override the learning rate (> 0).",
            rich_help_panel=SCHEDULE,
        ),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(min=0, help="Override the random seed.", rich_help_panel=SCHEDULE),
    ] = None,
    dataset: Annotated[
        DatasetName | None,
        typer.Option(
            help="Override `dataset` (folder, tfrecord: the folder or the shards are --data-dir).",
            rich_help_panel=DATA,
            show_default=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Where to look for the dataset first.", rich_help_panel=DATA),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Run directory (default runs/<network>-<time>).",
            rich_help_panel=RUN,
        ),
    ] = None,
    strategy: Annotated[
        Strategy,
        typer.Option(
            help="tf.distribute strategy (multi-worker reads TF_CONFIG).", rich_help_panel=RUN
        ),
    ] = "auto",
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue the run in --out (or the newest for this network) from its last "
            "checkpoint, mid-epoch included.",
            rich_help_panel=RUN,
        ),
    ] = False,
    peak_tflops: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="Peak TFLOP/s of one device at the compute precision, for the MFU figure "
            "(detected on CPUs).",
            rich_help_panel=SPEED,
        ),
    ] = None,
    steps_per_epoch: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Cap the training steps per epoch (quick trials, benchmarks).",
            rich_help_panel=SPEED,
        ),
    ] = None,
    jit: Annotated[
        bool,
        typer.Option(
            help="Compile each training step with XLA (measured slower on CPUs).",
            rich_help_panel=COMPUTE,
        ),
    ] = False,
    mixed_precision: Annotated[
        bool | None,
        typer.Option(
            "--mixed-precision/--no-mixed-precision",
            help="Compute in float16 on GPUs, bfloat16 on CPUs; float32 weights. Default: on "
            "for CPUs with AMX (measured faster), off elsewhere.",
            show_default=False,
            rich_help_panel=COMPUTE,
        ),
    ] = None,
    steps_per_execution: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Optimizer steps per call into TensorFlow. Default: from the step's static "
            "cost, so small models skip Python's per-call overhead.",
            show_default=False,
            rich_help_panel=SPEED,
        ),
    ] = None,
    checkpoint_every: Annotated[
        str,
        typer.Option(
            help="Save a checkpoint inside epochs every N optimizer steps (500) or N minutes "
            "(10m); a kill loses at most that much. SIGTERM saves at once and exits 143.",
            rich_help_panel=RUN,
        ),
    ] = "10m",
    bn_batches: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Before each evaluation, recompute the batch-norm statistics over N training "
            "batches with the final weights (precise BN; default 100, at most an epoch); "
            "0 keeps Keras' moving averages.",
            show_default=False,
            rich_help_panel=SCHEDULE,
        ),
    ] = None,
    data_service: Annotated[
        str | None,
        typer.Option(
            help="Run the training input pipeline on a tf.data service: the dispatcher's "
            "grpc://HOST:PORT (README, Preprocessing on other machines).",
            show_default=False,
            rich_help_panel=DATA,
        ),
    ] = None,
) -> None:
    """Train a spec with Keras under tf.distribute; writes a run directory."""
    out = console()
    every_steps, every_seconds = parse_checkpoint_every(checkpoint_every)
    network, text = _compile_or_exit(spec, out)
    from compiler.runner import run
    from compiler.session import CheckpointEvery, RunOptions, TrainingError

    options = RunOptions(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        dataset=dataset,
        data_dir=data_dir,
        out_dir=out_dir,
        strategy=strategy,
        resume=resume,
        seed=seed,
        steps_per_epoch=steps_per_epoch,
        peak_tflops=peak_tflops,
        jit=jit,
        mixed_precision=mixed_precision,
        steps_per_execution=steps_per_execution,
        checkpoint_every=CheckpointEvery(every_steps)
        if every_seconds is None
        else CheckpointEvery(seconds=every_seconds),
        bn_batches=bn_batches,
        data_service=data_service,
    )
    try:
        result = run(network, text, options, out)
    except TrainingError as exc:
        from netspec.render import print_diagnostics

        print_diagnostics(out, exc.diagnostics, text)
        raise typer.Exit(1) from None
    if result.stopped:
        raise typer.Exit(STOPPED_BY_SIGTERM)
    out.print(
        f"{result.run_dir}: val_accuracy {result.val_accuracy:.4f} after "
        f"{result.epochs_completed} epoch(s)"
    )


data_app = typer.Typer(help="Prepare datasets for training.", no_args_is_help=True)
app.add_typer(data_app, name="data")


@data_app.command("pack")
def data_pack(
    folder: Annotated[
        Path,
        typer.Argument(
            help="Image folder: one subfolder per class, with or without train/ and test/.",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for the shards.", show_default=False)
    ],
    shards: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Training shards (default: about 128 MB each, at least 8).",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the record order and held-out split.")] = 0,
) -> None:
    """Pack an image folder into TFRecord shards for `dataset tfrecord "DIR"`."""
    out = console()
    from compiler.datasets import DatasetError, pack_folder

    try:
        packed = pack_folder(folder, output, shards, seed)
    except DatasetError as exc:
        out.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from None
    out.print(
        f"packed {packed.images['train']:,} training images into {packed.shards['train']} "
        f"shard(s) and {packed.images['test']:,} test images into {packed.shards['test']} "
        f"in {packed.directory}"
    )
