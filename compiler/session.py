"""Preparing a training session: every check, the data, the strategy, the models, the
optimizer and the restored checkpoint, before the first step. Every error is a diagnostic."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
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
from compiler.pipeline import Normalization, evaluation_preprocessing, make_datasets, normalization
from compiler.position import Position
from compiler.precision import choose_compute, dtype_policy, wrap_optimizer
from compiler.run_dir import default_run_dir, newest_run_dir, read_history, write_atomically
from compiler.streaming import input_shard, naming_unreadable_images
from netspec.analysis.analyse import analyse
from netspec.analysis.report import Totals
from netspec.diagnostics import Diagnostic, error
from netspec.ir import DatasetConfig, Network, Span, TrainConfig
from netspec.ir.training import FILE_DATASETS, DatasetName

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
    history: list[dict[str, Any]]
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


def effective_config(network: Network, options: RunOptions) -> TrainConfig:
    config = network.train
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
        if options.dataset not in get_args(DatasetName):
            raise fail(
                network,
                "dataset",
                f"unknown dataset '{options.dataset}': use one of "
                + ", ".join(get_args(DatasetName)),
            )
        path = None
        if options.dataset in FILE_DATASETS:
            if options.data_dir is None:
                raise fail(
                    network,
                    "dataset",
                    f"--dataset {options.dataset} reads from --data-dir "
                    f"({FILE_DATASET_LAYOUTS[options.dataset]}), which is not given",
                )
            path = str(options.data_dir)
        update["dataset"] = DatasetConfig(name=options.dataset, path=path)
    return config.model_copy(update=update)


@contextlib.contextmanager
def dataset_errors(network: Network, config: TrainConfig) -> Iterator[None]:
    """An image the pipeline cannot decode, reported at the spec's dataset line."""
    try:
        with naming_unreadable_images():
            yield
    except DatasetError as exc:
        raise fail(network, "dataset", str(exc), config.dataset.span) from None


def load_data(
    network: Network, config: TrainConfig, options: RunOptions
) -> ArrayDataset | StreamedDataset:
    source = network.input
    dataset = config.dataset
    try:
        data = load_dataset(
            dataset.name,
            path=dataset.path,
            data_dir=options.data_dir,
            image_size=(source.height, source.width, source.channels),
            classes=network.classes,
            seed=config.seed,
        )
    except DatasetError as exc:
        raise fail(network, "dataset", str(exc), dataset.span) from None
    height, width, channels = data.image_shape
    if config.resize:
        height, width = config.resize
    if (height, width, channels) != (source.height, source.width, source.channels):
        raise fail(
            network,
            "dataset-shape",
            f"{dataset.name} images are {height}x{width}x{channels} but the network "
            f"takes {source.height}x{source.width}x{source.channels}",
            dataset.span,
            hint="change `input`, or add `resize N` to train:",
        )
    if data.num_classes != network.classes:
        raise fail(
            network,
            "dataset-classes",
            f"{dataset.name} has {data.num_classes} classes but the spec says "
            f"`classes {network.classes}`",
            dataset.span,
        )
    return data


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


def prepare(network: Network, spec_text: str, options: RunOptions, console: Console) -> Session:
    """Everything a run needs before its first step, or a TrainingError saying what is wrong."""
    config = effective_config(network, options)
    try:
        strategy = choose_strategy(options.strategy)
    except StrategyError as exc:
        raise fail(network, "strategy", str(exc)) from None
    chief = is_chief(strategy)
    run_dir = _run_dir(network, options)
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

    totals = analyse(network).totals
    assert totals is not None  # the CLI trains only networks that check without errors
    compute = choose_compute(
        this_machine(strategy),
        arithmetic_intensity(totals),
        options.mixed_precision,
        options.bfloat16,
        options.jit,
    )
    if chief:
        for reason in compute.reasons:
            console.print(reason)
    options, policy = dataclasses.replace(options, jit=compute.jit), compute.policy
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
    history: list[dict[str, Any]] = []
    if options.resume:
        # Every worker restores the chief's checkpoint (the run directory is shared).
        latest = tf.train.latest_checkpoint(str(run_dir / "checkpoints"))
        checkpoint.restore(latest).expect_partial()
        history = read_history(run_dir)[: position.epoch]
    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "spec.ns").write_text(spec_text)
        # What prediction needs to name classes and prepare an image like evaluation did.
        preprocessing = evaluation_preprocessing(data, config, norm)
        write_atomically(run_dir / "classes.json", json.dumps(preprocessing, indent=2))
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
        totals=totals,
        policy=policy,
        models=models,
        optimizer=optimizer,
        position=position,
        manager=manager,
        history=history,
        test_batches=test_batches,
    )
