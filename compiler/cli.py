"""The backend's commands (build, train, data pack, and after training predict, evaluate,
export), mounted into the front end's `netspec` app through the `netspec.commands` entry
point, so that `netspec.cli` never imports the compiler.

TensorFlow loads inside each command only: `netspec --help` and `netspec check` never pay
for it.

Exit codes added here: 1 training failed (or bad input to a command); 143 (128 + SIGTERM)
training was stopped by SIGTERM after saving a checkpoint: rerun with --resume (schedulers
count 128+ as retryable).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer
from rich.console import Console

from compiler.quiet_start import import_tensorflow
from netspec import api
from netspec.cli import app as netspec_app
from netspec.cli import console
from netspec.cli_help import Command, Group
from netspec.ir.training import DatasetName
from netspec.syntax import ast as api_ast

if TYPE_CHECKING:
    import numpy as np
    import tensorflow as tf

    from compiler.trained import Trained
    from netspec.analysis.report import Totals

Verbose = Annotated[
    bool,
    typer.Option("--verbose", help="Show TensorFlow's C++ start-up messages."),
]


_INTERVAL = re.compile(r"^(\d+)(m?)$")
STOPPED_BY_SIGTERM = 128 + 15


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


def _compile_or_exit(spec: Path, out: Console) -> tuple[api.Network, Totals, str]:
    """The checked network and its totals, parsed and analysed once, or the diagnostics and
    exit 1: nothing half-valid reaches Keras."""
    from netspec.render import print_diagnostics, print_diagnostics_notes_counted

    try:
        text = api.read_spec(spec)
    except api.NetspecError as exc:
        print_diagnostics(out, exc.diagnostics, None)
        raise typer.Exit(1) from None
    checked = api.check(text, str(spec))
    network, report = checked.network, checked.report
    # The spec's warnings too, as `check` prints them (`# allow:` honoured), before the work;
    # its notes counted in one line.
    print_diagnostics_notes_counted(out, report.diagnostics, text, str(spec))
    if network is None or report.totals is None or report.has_errors:
        raise typer.Exit(1)
    return network, report.totals, text


def build(
    spec: Annotated[Path, typer.Argument(help="Spec file (.ns).", show_default=False)],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to save the inference model (.keras).")
    ] = Path("model.keras"),
    verbose: Verbose = False,
) -> None:
    """Compile a spec to Keras and save the inference model (aux heads dropped)."""
    out = console()
    network, _, _ = _compile_or_exit(spec, out)
    import_tensorflow(verbose)
    from compiler.build import save_inference_model

    model = save_inference_model(network, output)
    out.print(f"saved {network.name} ({model.count_params():,} parameters) to {output}")


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
            "(detected on CPUs; from a table of NVIDIA GPUs' datasheets).",
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
        bool | None,
        typer.Option(
            "--jit/--no-jit",
            help="Compile each training step with XLA. Default: on for one GPU; off under "
            "mirrored and multi-worker strategies (XLA with mixed precision fails there) and "
            "on CPUs (measured slower).",
            show_default=False,
            rich_help_panel=COMPUTE,
        ),
    ] = None,
    mixed_precision: Annotated[
        bool | None,
        typer.Option(
            "--mixed-precision/--no-mixed-precision",
            help="Compute in float16 (with loss scaling) on GPUs, bfloat16 on CPUs; float32 "
            "weights. Default: on GPUs with tensor cores (compute capability 7.0+); on CPUs "
            "where measured faster: with AMX, and with AVX-512 BF16 for networks that "
            "compute at least 50 FLOPs per activation byte.",
            show_default=False,
            rich_help_panel=COMPUTE,
        ),
    ] = None,
    bfloat16: Annotated[
        bool,
        typer.Option(
            "--bfloat16",
            help="Mixed precision in bfloat16 on any device (on GPUs only when asked: some "
            "ops have no bfloat16 GPU kernel).",
            rich_help_panel=COMPUTE,
        ),
    ] = False,
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
            metavar="N|Nm",
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
            metavar="grpc://HOST:PORT",
            help="Run the training input pipeline on a tf.data service: the dispatcher's "
            "grpc://HOST:PORT (README, Preprocessing on other machines).",
            show_default=False,
            rich_help_panel=DATA,
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", help="Show TensorFlow's C++ start-up messages.", rich_help_panel=RUN
        ),
    ] = False,
) -> None:
    """Train a spec with Keras under tf.distribute; writes a run directory."""
    out = console()
    every_steps, every_seconds = parse_checkpoint_every(checkpoint_every)
    network, totals, text = _compile_or_exit(spec, out)
    import_tensorflow(verbose)
    from compiler.runner import run
    from compiler.session import CheckedSpec, CheckpointEvery, RunOptions, TrainingError

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
        bfloat16=bfloat16,
        steps_per_execution=steps_per_execution,
        checkpoint_every=CheckpointEvery(every_steps)
        if every_seconds is None
        else CheckpointEvery(seconds=every_seconds),
        bn_batches=bn_batches,
        data_service=data_service,
    )
    try:
        result = run(CheckedSpec(text, network, totals), options, out)
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
    verbose: Verbose = False,
) -> None:
    """Pack an image folder into TFRecord shards for `dataset tfrecord "DIR"`."""
    import_tensorflow(verbose)
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


AFTER = "After training"


def _load_or_exit(model_or_run: Path, out: Console) -> Trained:
    from compiler.trained import TrainedError, load_trained

    try:
        return load_trained(model_or_run)
    except TrainedError as exc:
        _fail(out, str(exc))


def _fail(out: Console, message: str) -> NoReturn:
    out.print(f"[red]error[/red]: {message}", soft_wrap=True)
    raise typer.Exit(1)


def _test_batches_or_exit(
    trained: Trained, dataset: str | None, data_dir: Path | None, out: Console
) -> tf.data.Dataset:
    from compiler.evaluation_data import test_batches
    from compiler.trained import TrainedError

    try:
        return test_batches(trained, dataset, data_dir, EVALUATION_BATCH)
    except TrainedError as exc:
        _fail(out, str(exc))


ModelOrRun = Annotated[
    Path,
    typer.Argument(help="A run directory or a .keras model.", show_default=False),
]
DatasetOption = Annotated[
    DatasetName | None,
    typer.Option(
        help="Override the run's dataset (folder, tfrecord: the folder or the shards are "
        "--data-dir).",
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path | None, typer.Option(help="Where to look for the dataset first.", show_default=False)
]
EVALUATION_BATCH = 256


def predict(
    model_or_run: ModelOrRun,
    images: Annotated[
        list[Path],
        typer.Argument(help="Image files, or folders of them.", show_default=False),
    ],
    top: Annotated[int, typer.Option(min=1, help="How many classes to show per image.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document, for tools.")] = False,
    verbose: Verbose = False,
) -> None:
    """Classify images with a trained model, preprocessed as its run's evaluation was."""
    import_tensorflow(verbose)
    from rich.progress import Progress
    from rich.table import Table

    from compiler.predict import UnreadableImage, image_files
    from compiler.predict import predict as predict_images
    from compiler.trained import TrainedError

    out = console(stderr=as_json)
    try:
        files = image_files(images)
    except FileNotFoundError as exc:
        _fail(out, str(exc))
    if not files:
        _fail(
            out, "no image files (.png, .jpg, .jpeg, .bmp, .gif) in " + ", ".join(map(str, images))
        )
    trained = _load_or_exit(model_or_run, out)
    try:
        with Progress(console=console(stderr=True), transient=True, disable=len(files) < 2) as bar:
            task = bar.add_task("predicting", total=len(files))
            predictions = list(predict_images(trained, files, top, lambda n: bar.advance(task, n)))
    except (TrainedError, UnreadableImage) as exc:
        _fail(out, str(exc))
    if as_json:
        print(
            json.dumps(
                [
                    {
                        "image": str(p.path),
                        "top": [{"class": name, "probability": prob} for name, prob in p.top],
                    }
                    for p in predictions
                ],
                indent=2,
            )
        )
        return
    table = Table("image", *(f"#{rank + 1}" for rank in range(len(predictions[0].top))))
    for prediction in predictions:
        table.add_row(
            str(prediction.path), *(f"{name} {prob:.1%}" for name, prob in prediction.top)
        )
    out.print(table)


def evaluate(
    run: Annotated[
        Path, typer.Argument(help="A run directory `netspec train` wrote.", show_default=False)
    ],
    dataset: DatasetOption = None,
    data_dir: DataDirOption = None,
    plot: Annotated[
        Path | None,
        typer.Option(help="Write the confusion matrix as a PNG.", show_default=False),
    ] = None,
    verbose: Verbose = False,
) -> None:
    """Top-1/top-5 accuracy, loss, per-class accuracy and confusion matrix on the test split.

    Also written to the run's evaluation.json.
    """
    import_tensorflow(verbose)
    from rich.table import Table

    from compiler.evaluate import evaluate as evaluate_model
    from compiler.evaluate import plot_confusion
    from netspec.records import EVALUATION_FILE, write_record

    out = console()
    trained = _load_or_exit(run, out)
    batches = _test_batches_or_exit(trained, dataset, data_dir, out)
    with out.status("evaluating on the test split"):
        result = evaluate_model(trained.model, batches, trained.classes)
    write_record(trained.run_dir / EVALUATION_FILE, result)
    out.print(
        f"{result.images:,} test images: top-1 {result.top1:.4f}  top-5 {result.top5:.4f}  "
        f"loss {result.loss:.4f}"
    )
    table = Table("true \\ predicted", *result.classes, "accuracy", title="confusion matrix")
    for name, row, accuracy in zip(
        result.classes, result.confusion, result.per_class_accuracy, strict=True
    ):
        table.add_row(name, *map(str, row), f"{accuracy:.3f}")
    out.print(table)
    out.print(f"written to {trained.run_dir / EVALUATION_FILE}")
    if plot is not None:
        plot_confusion(result, plot)
        out.print(f"confusion matrix drawn in {plot}")


ExportFormat = Literal["keras", "savedmodel", "tflite"]
Quantization = Literal["float16", "int8"]


def export(
    model_or_run: ModelOrRun,
    export_format: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="keras; savedmodel (a serving signature, for TF Serving); tflite (converted "
            "from the SavedModel).",
        ),
    ] = "savedmodel",
    quantize: Annotated[
        Quantization | None,
        typer.Option(
            help="TFLite only: float16 weights, or int8 calibrated on the run's test images.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Where to write (default: beside the model).", show_default=False
        ),
    ] = None,
    dataset: DatasetOption = None,
    data_dir: DataDirOption = None,
    verbose: Verbose = False,
) -> None:
    """Export the inference model (aux heads dropped) for serving or for phones."""
    import_tensorflow(verbose)
    from compiler.export import CALIBRATION_BATCHES, DEFAULT_SUFFIXES, export_model

    out = console()
    if quantize is not None and export_format != "tflite":
        raise typer.BadParameter("only a tflite export is quantized", param_hint="--quantize")
    trained = _load_or_exit(model_or_run, out)
    calibration = None
    if quantize == "int8":
        batches = _test_batches_or_exit(trained, dataset, data_dir, out)

        def calibration() -> Iterator[np.ndarray]:
            for images, _ in batches.take(CALIBRATION_BATCHES):
                yield images.numpy()

    if output is None:
        tag = f"-{quantize}" if quantize else ""
        output = trained.model_path.with_name(
            f"{trained.model_path.stem}{tag}{DEFAULT_SUFFIXES[export_format]}"
        )
    with out.status(f"exporting to {export_format}"):
        export_model(trained.model, export_format, output, quantize, calibration)
    out.print(f"exported {trained.model_path} as {export_format} to {output}")


def import_keras(
    source: Annotated[
        str,
        typer.Argument(
            metavar="MODEL.keras|NAME",
            help="A .keras file, or a keras.applications model (ResNet50, InceptionV3, ...).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The spec to write (.ns).", show_default=False)
    ],
    verbose: Verbose = False,
) -> None:
    """Write a spec of a Keras model: a .keras file or a keras.applications name.

    A .keras file is read as its config only: no layer is built from it, so no code in it (a
    Lambda) runs.
    """
    out = console()
    if not source.endswith(".keras"):
        import_tensorflow(verbose)
    from compiler.keras_import import ImportFailed, write_spec

    try:
        spec = write_spec(source, output)
    except ImportFailed as exc:
        out.print(f"[red]error[/red]: {exc}", soft_wrap=True)
        for problem in exc.problems:
            out.print(f"  {problem}", soft_wrap=True, highlight=False)
        raise typer.Exit(1) from None
    name = next(s.name for s in spec.statements if isinstance(s, api_ast.NetworkStmt))
    out.print(f"wrote {name} to {output}")


def _import_app(app: typer.Typer) -> typer.Typer:
    """The `netspec import` group: the front end's, if it has one (other importers), else
    a new one."""
    for group in app.registered_groups:
        if group.name == "import" and group.typer_instance is not None:
            return group.typer_instance
    group_app = typer.Typer(
        cls=Group, help="Write a spec from another framework's model.", no_args_is_help=True
    )
    app.add_typer(group_app, name="import")
    return group_app


data_app = typer.Typer(cls=Group, help="Prepare datasets for training.", no_args_is_help=True)
data_app.command("pack", cls=Command)(data_pack)


def mount(app: typer.Typer) -> None:
    """Add the backend's commands to `app` (the `netspec.commands` entry point); once only."""
    if any(command.callback is build for command in app.registered_commands):
        return
    for command in (build, train, predict, evaluate, export):
        app.command(cls=Command)(command)
    app.add_typer(data_app, name="data")
    _import_app(app).command("keras", cls=Command)(import_keras)


mount(netspec_app)
# The front end's app with the backend mounted: what tests drive in-process.
app = netspec_app
