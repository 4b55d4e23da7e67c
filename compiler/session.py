"""Preparing a training session: every check, the data, the strategy, the models, the
optimizer and the restored checkpoint, before the first step. Every error is a diagnostic."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, get_args

import keras
import tensorflow as tf
from rich.console import Console

from compiler.build import BuiltModels, build_models
from compiler.data_service import DataServiceError, check_dispatcher, through_service
from compiler.datasets import ArrayDataset, DatasetError, StreamedDataset, load_dataset
from compiler.devices import this_machine
from compiler.distribute import StrategyError, choose_strategy, is_chief
from compiler.hardware import arithmetic_intensity
from compiler.optim import make_optimizer
from compiler.pipeline import Normalization, make_datasets, normalization
from compiler.position import Position
from compiler.precision import choose_compute, dtype_policy, wrap_optimizer
from compiler.run_dir import default_run_dir, newest_run_dir
from compiler.streaming import input_shard, naming_unreadable_images
from netspec import api
from netspec.analysis.report import Totals
from netspec.diagnostics import Diagnostic, NetspecError, error
from netspec.ir import DatasetConfig, Network, Span, TrainConfig
from netspec.ir.training import FILE_DATASETS, DatasetName
from netspec.records import SPEC_FILE, EpochRecord, RecordError, read_metrics, read_run_record

# Schedulers stop jobs without warning; ten minutes of lost work is the default price.
DEFAULT_CHECKPOINT_SECONDS = 600.0
FILE_DATASET_LAYOUTS = {
    "folder": "one subfolder per class",
    "tfrecord": "shards written by `netspec data pack`",
}


@dataclass(frozen=True)
class CheckpointEvery:
    """Save inside epochs every `steps` optimizer steps, or else every `seconds`."""

    steps: int | None = None
    seconds: float = DEFAULT_CHECKPOINT_SECONDS


@dataclass(frozen=True)
class RunOptions:
    """Command-line overrides of the spec's `train:` section; None keeps the spec's."""

    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    data_dir: Path | None = None
    out_dir: Path | None = None
    strategy: str = "auto"
    resume: bool = False
    seed: int | None = None
    steps_per_epoch: int | None = None
    peak_tflops: float | None = None
    dataset: str | None = None
    jit: bool | None = None  # None: by rule (compiler.precision); prepare() decides
    mixed_precision: bool | None = None  # None: where measured to help (compiler.precision)
    bfloat16: bool = False
    steps_per_execution: int | None = None  # None: from the step's static cost
    checkpoint_every: CheckpointEvery = CheckpointEvery()
    bn_batches: int | None = None  # precise batch norm; None: compiler.precise_bn's default
    data_service: str | None = None  # grpc://HOST:PORT of a tf.data service dispatcher
    # The search values the spec was made from, for the run record (`sweep --train`).
    configuration: dict[str, int | float] | None = None


@dataclass(frozen=True)
class CheckedSpec:
    """A spec that checks without errors: its text, its network and the static analysis'
    totals, each made once (the precision default, the MFU and the run record read them)."""

    text: str
    network: Network
    totals: Totals

    @classmethod
    def of(
        cls, text: str, file: str = "<spec>", input_size: api.InputSize | None = None
    ) -> CheckedSpec:
        checked = api.check(text, file, input_size)
        network, report = checked.network, checked.report
        if network is None or report.totals is None or report.has_errors:
            raise NetspecError([d for d in report.diagnostics if d.is_error])
        return cls(text, network, report.totals)


class TrainingError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def fail(
    network: Network, code: str, message: str, span: Span | None = None, hint: str | None = None
) -> TrainingError:
    line, column = (span.line, span.column) if span else (0, 0)
    return TrainingError([error(code, message, network.file, line, column, hint)])


@dataclass
class Session:
    """A run ready for its first (or next) step; `fit` in compiler.runner trains it."""

    network: Network
    options: RunOptions
    config: TrainConfig
    console: Console
    strategy: tf.distribute.Strategy
    chief: bool
    run_dir: Path
    data: ArrayDataset | StreamedDataset
    normalization: Normalization
    global_batch: int
    steps_per_epoch: int
    # The static analysis' figures: the precision default and the MFU read them.
    totals: Totals
    policy: str
    models: BuiltModels
    optimizer: keras.optimizers.Optimizer
    position: Position
    manager: tf.train.CheckpointManager
    history: list[EpochRecord]
    test_batches: tf.data.Dataset

    def train_batches(self, epoch: int) -> tf.data.Dataset:
        """Epoch `epoch`'s batches in an order fixed by the seed and the epoch, so a resumed
        run sees the very batches an unkilled run would have (through a tf.data service,
        its workers decide the order: only the counts carry over)."""
        config = self.config.model_copy(update={"seed": self.config.seed * 1_000_003 + epoch})
        train, _ = make_datasets(
            self.data, config, self.global_batch, self.normalization, input_shard(self.strategy)
        )
        if self.options.data_service:
            return through_service(train, self.options.data_service)
        return train


class DataProblem(Exception):
    """A dataset that cannot be read, or does not fit the network."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code, self.hint = code, hint


def dataset_override(dataset: str, data_dir: Path | None) -> DatasetConfig:
    """`--dataset NAME` (and `--data-dir`, which is a file dataset's path)."""
    if dataset not in get_args(DatasetName):
        raise DataProblem(
            "dataset",
            f"unknown dataset '{dataset}': use one of " + ", ".join(get_args(DatasetName)),
        )
    path = None
    if dataset in FILE_DATASETS:
        if data_dir is None:
            raise DataProblem(
                "dataset",
                f"--dataset {dataset} reads from --data-dir "
                f"({FILE_DATASET_LAYOUTS[dataset]}), which is not given",
            )
        path = str(data_dir)
    return DatasetConfig(name=dataset, path=path)


def effective_config(network: Network, options: RunOptions, config: TrainConfig) -> TrainConfig:
    """`config` (the spec's `train:` section, or what a resumed run recorded) with the
    command line's overrides; errors point at `network`'s spec."""
    update: dict[str, Any] = {}
    if options.epochs is not None:
        update["epochs"] = options.epochs
    if options.batch_size is not None:
        update["batch"] = options.batch_size
    if options.seed is not None:
        update["seed"] = options.seed
    if options.lr is not None:
        update["optimizer"] = config.optimizer.model_copy(update={"lr": options.lr})
    if options.dataset is not None:
        try:
            update["dataset"] = dataset_override(options.dataset, options.data_dir)
        except DataProblem as problem:
            raise fail(network, problem.code, str(problem)) from None
    return config.model_copy(update=update)


@contextlib.contextmanager
def dataset_errors(network: Network, config: TrainConfig) -> Iterator[None]:
    """An image the pipeline cannot decode, reported at the spec's dataset line."""
    try:
        with naming_unreadable_images():
            yield
    except DatasetError as exc:
        raise fail(network, "dataset", str(exc), config.dataset.span) from None


def open_dataset(
    config: TrainConfig, data_dir: Path | None, input_shape: tuple[int, int, int], classes: int
) -> ArrayDataset | StreamedDataset:
    """The dataset `config` names, checked against the network's input and classes."""
    dataset = config.dataset
    try:
        data = load_dataset(
            dataset.name,
            path=dataset.path,
            data_dir=data_dir,
            image_size=input_shape,
            classes=classes,
            seed=config.seed,
        )
    except DatasetError as exc:
        raise DataProblem("dataset", str(exc)) from None
    height, width, channels = data.image_shape
    if config.resize:
        height, width = config.resize
    if (height, width, channels) != input_shape:
        raise DataProblem(
            "dataset-shape",
            f"{dataset.name} images are {height}x{width}x{channels} but the network "
            "takes {}x{}x{}".format(*input_shape),
            hint="change `input`, or add `resize N` to train:",
        )
    if data.num_classes != classes:
        raise DataProblem(
            "dataset-classes",
            f"{dataset.name} has {data.num_classes} classes but the spec says `classes {classes}`",
        )
    return data


def load_data(
    network: Network, config: TrainConfig, options: RunOptions
) -> ArrayDataset | StreamedDataset:
    source = network.input
    try:
        return open_dataset(
            config,
            options.data_dir,
            (source.height, source.width, source.channels),
            network.classes,
        )
    except DataProblem as problem:
        raise fail(network, problem.code, str(problem), config.dataset.span, problem.hint) from None


def _run_dir(network: Network, options: RunOptions) -> Path:
    if options.resume:
        found = options.out_dir or newest_run_dir(network.name)
        if found is None or not (found / "checkpoints").is_dir():
            raise fail(
                network,
                "resume",
                f"nothing to resume: no checkpoints in {found or 'runs/' + network.name + '-*'}",
            )
        return found
    return options.out_dir or default_run_dir(network.name)


def steps_per_epoch(
    network: Network, config: TrainConfig, options: RunOptions, images: int, replicas: int
) -> int:
    if config.batch % replicas:
        raise fail(
            network,
            "batch",
            f"the global batch {config.batch} does not split evenly across {replicas} replicas",
        )
    steps = images // config.batch
    if options.steps_per_epoch:
        steps = min(steps, options.steps_per_epoch)
    if steps == 0:
        raise fail(
            network,
            "batch",
            f"the batch {config.batch} is larger than the {images} training images",
            config.dataset.span,
        )
    return steps


def prepare(spec: CheckedSpec, options: RunOptions, console: Console) -> Session:
    """Everything a run needs before its first step, or a TrainingError saying what is wrong."""
    network = spec.network
    run_dir = _run_dir(network, options)
    settings = network.train
    if options.resume:
        settings, options = _recorded_settings(network, run_dir, options)
    config = effective_config(network, options, settings)
    try:
        strategy = choose_strategy(options.strategy)
    except StrategyError as exc:
        raise fail(network, "strategy", str(exc)) from None
    chief = is_chief(strategy)
    if options.data_service:
        try:
            check_dispatcher(options.data_service)
        except DataServiceError as exc:
            raise fail(network, "data-service", str(exc)) from None
    keras.utils.set_random_seed(config.seed)
    data = load_data(network, config, options)
    steps = steps_per_epoch(
        network, config, options, data.train_count, strategy.num_replicas_in_sync
    )
    with dataset_errors(network, config):
        norm = normalization(data, config)
    _, test_batches = make_datasets(data, config, config.batch, norm, input_shard(strategy))

    compute = choose_compute(
        this_machine(strategy),
        arithmetic_intensity(spec.totals),
        options.mixed_precision,
        options.bfloat16,
        options.jit,
    )
    if chief:
        for reason in compute.reasons:
            console.print(reason)
    options, policy = replace(options, jit=compute.jit), compute.policy
    with strategy.scope(), dtype_policy(policy):
        models = build_models(network)
        optimizer = wrap_optimizer(
            make_optimizer(config.optimizer, config.optimizer.lr, config.weight_decay), policy
        )
        optimizer.build(models.training.trainable_variables)
        position = Position.zero()
        checkpoint = tf.train.Checkpoint(
            model=models.training, optimizer=optimizer, **position.variables()
        )
    # The chief keeps checkpoints in the run; other workers must write too (collectives),
    # so they write to a temporary place that is deleted afterwards (TF's documented way).
    checkpoint_dir = run_dir / "checkpoints" if chief else Path(tempfile.mkdtemp())
    manager = tf.train.CheckpointManager(checkpoint, str(checkpoint_dir), max_to_keep=2)
    history: list[EpochRecord] = []
    if options.resume:
        # Every worker restores the chief's checkpoint (the run directory is shared).
        latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
        checkpoint.restore(latest).expect_partial()
        history = _completed_epochs(network, run_dir, position.epoch)
    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / SPEC_FILE).write_text(spec.text)
    return Session(
        network=network,
        options=options,
        config=config,
        console=console if chief else Console(quiet=True),
        strategy=strategy,
        chief=chief,
        run_dir=run_dir,
        data=data,
        normalization=norm,
        global_batch=config.batch,
        steps_per_epoch=steps,
        totals=spec.totals,
        policy=policy,
        models=models,
        optimizer=optimizer,
        position=position,
        manager=manager,
        history=history,
        test_batches=test_batches,
    )


def _recorded_settings(
    network: Network, run_dir: Path, options: RunOptions
) -> tuple[TrainConfig, RunOptions]:
    """A resumed run goes on with the settings it recorded (its seed, dataset, ...), not
    the spec's; what the command line gives again still overrides them."""
    try:
        record = read_run_record(run_dir)
    except RecordError as exc:
        raise fail(network, "resume", str(exc)) from None
    if options.data_dir is None and record.data_dir is not None:
        options = replace(options, data_dir=Path(record.data_dir))
    if options.configuration is None:
        options = replace(options, configuration=record.configuration)
    return record.config, options


def _completed_epochs(network: Network, run_dir: Path, epochs: int) -> list[EpochRecord]:
    """The recorded epochs the checkpoint has completed (a kill may fall between the two)."""
    try:
        metrics = read_metrics(run_dir)
    except RecordError as exc:
        raise fail(network, "resume", str(exc)) from None
    return list(metrics.history[:epochs]) if metrics else []
