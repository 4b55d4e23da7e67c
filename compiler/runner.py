"""`netspec train`: data, strategy, models, the loop, checkpoints and the run directory.

A run is resumable at epoch granularity: after each epoch the metrics are written, then
the checkpoint (model, optimizer, epoch) is committed; on `--resume` the history is cut
back to the checkpoint's epoch, so a kill loses at most the epoch in flight.
"""

from __future__ import annotations

import contextlib
import json
import math
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import keras
import numpy as np
import tensorflow as tf
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from compiler.build import build_models
from compiler.datasets import ArrayDataset, DatasetError, StreamedDataset, load_dataset
from compiler.distribute import StrategyError, choose_strategy, is_chief
from compiler.hardware import cpu_peak_flops, training_flops_per_image
from compiler.loop import make_steps
from compiler.optim import learning_rate, make_optimizer
from compiler.pipeline import evaluation_preprocessing, make_datasets, normalization
from compiler.precision import dtype_policy, policy_name, wrap_optimizer
from compiler.run_dir import (
    default_run_dir,
    newest_run_dir,
    read_history,
    write_atomically,
    write_metrics,
)
from compiler.streaming import input_shard, naming_unreadable_images
from netspec.analysis.analyse import analyse
from netspec.diagnostics import Diagnostic, error
from netspec.ir import DatasetConfig, Network, Span, TrainConfig
from netspec.ir.training import FILE_DATASETS, DatasetName

# Measured here (README, Performance): 8 steps per call trained Fashion-MNIST's 25 ms steps
# 8% faster than 1; cifar_trimmed's 1.5 s steps gained nothing. A call covering at least
# this much work at the devices' peak hides the Python overhead.
SECONDS_PER_EXECUTION = 0.2
MAX_STEPS_PER_EXECUTION = 16
FILE_DATASET_LAYOUTS = {
    "folder": "one subfolder per class",
    "tfrecord": "shards written by `netspec data pack`",
}


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
    jit: bool = False
    mixed_precision: bool | None = None  # None: where measured to help (compiler.precision)
    steps_per_execution: int | None = None  # None: from the step's static cost


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    epochs_completed: int
    val_accuracy: float
    val_loss: float


class TrainingError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def _fail(
    network: Network, code: str, message: str, span: Span | None = None, hint: str | None = None
) -> TrainingError:
    line, column = (span.line, span.column) if span else (0, 0)
    return TrainingError([error(code, message, network.file, line, column, hint)])


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
            raise _fail(
                network,
                "dataset",
                f"unknown dataset '{options.dataset}': use one of "
                + ", ".join(get_args(DatasetName)),
            )
        path = None
        if options.dataset in FILE_DATASETS:
            if options.data_dir is None:
                raise _fail(
                    network,
                    "dataset",
                    f"--dataset {options.dataset} reads from --data-dir "
                    f"({FILE_DATASET_LAYOUTS[options.dataset]}), which is not given",
                )
            path = str(options.data_dir)
        update["dataset"] = DatasetConfig(name=options.dataset, path=path)
    return config.model_copy(update=update)


@contextlib.contextmanager
def _dataset_errors(network: Network, config: TrainConfig) -> Iterator[None]:
    """An image the pipeline cannot decode, reported at the spec's dataset line."""
    try:
        with naming_unreadable_images():
            yield
    except DatasetError as exc:
        raise _fail(network, "dataset", str(exc), config.dataset.span) from None


def _load_data(
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
        raise _fail(network, "dataset", str(exc), dataset.span) from None
    height, width, channels = data.image_shape
    if config.resize:
        height, width = config.resize
    if (height, width, channels) != (source.height, source.width, source.channels):
        raise _fail(
            network,
            "dataset-shape",
            f"{dataset.name} images are {height}x{width}x{channels} but the network "
            f"takes {source.height}x{source.width}x{source.channels}",
            dataset.span,
            hint="change `input`, or add `resize N` to train:",
        )
    if data.num_classes != network.classes:
        raise _fail(
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
            raise _fail(
                network,
                "resume",
                f"nothing to resume: no checkpoints in {found or 'runs/' + network.name + '-*'}",
            )
        return found
    return options.out_dir or default_run_dir(network.name)


def run(network: Network, spec_text: str, options: RunOptions, console: Console) -> RunResult:
    config = effective_config(network, options)
    try:
        strategy = choose_strategy(options.strategy)
    except StrategyError as exc:
        raise _fail(network, "strategy", str(exc)) from None
    chief = is_chief(strategy)
    run_dir = _run_dir(network, options)
    keras.utils.set_random_seed(config.seed)
    data = _load_data(network, config, options)

    replicas = strategy.num_replicas_in_sync
    global_batch = config.batch
    if global_batch % replicas:
        raise _fail(
            network,
            "batch",
            f"the global batch {global_batch} does not split evenly across {replicas} replicas",
        )
    with _dataset_errors(network, config):
        norm = normalization(data, config)
    train_data, test_data = make_datasets(data, config, global_batch, norm, input_shard(strategy))
    steps = data.train_count // global_batch
    if options.steps_per_epoch:
        steps = min(steps, options.steps_per_epoch)
    if steps == 0:
        raise _fail(
            network,
            "batch",
            f"the batch {global_batch} is larger than the {data.train_count} training images",
            config.dataset.span,
        )

    policy = policy_name(options.mixed_precision)
    with strategy.scope(), dtype_policy(policy):
        models = build_models(network)
        optimizer = wrap_optimizer(
            make_optimizer(config.optimizer, config.optimizer.lr, config.weight_decay), policy
        )
        optimizer.build(models.training.trainable_variables)
        epoch_counter = tf.Variable(0, dtype=tf.int64, trainable=False)
        checkpoint = tf.train.Checkpoint(
            model=models.training, optimizer=optimizer, epoch=epoch_counter
        )
    # The chief keeps checkpoints in the run; other workers must write too (collectives),
    # so they write to a temporary place that is deleted afterwards (TF's documented way).
    checkpoint_dir = run_dir / "checkpoints" if chief else Path(tempfile.mkdtemp())
    manager = tf.train.CheckpointManager(checkpoint, str(checkpoint_dir), max_to_keep=2)
    history: list[dict[str, Any]] = []
    if options.resume:
        checkpoint.restore(manager.latest_checkpoint).expect_partial()
        history = read_history(run_dir)[: int(epoch_counter.numpy())]
    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "spec.ns").write_text(spec_text)
        # What prediction needs to name classes and prepare an image like evaluation did.
        preprocessing = evaluation_preprocessing(data, config, norm)
        write_atomically(run_dir / "classes.json", json.dumps(preprocessing, indent=2))

    step_fns = make_steps(
        strategy,
        models,
        optimizer,
        network.classes,
        config.label_smoothing,
        global_batch,
        jit_compile=options.jit,
    )
    distributed_train = strategy.experimental_distribute_dataset(train_data)
    distributed_test = strategy.experimental_distribute_dataset(test_data)
    writer = tf.summary.create_file_writer(str(run_dir / "logs")) if chief else None
    quiet = Console(quiet=True)
    out = console if chief else quiet

    throughput = Throughput.of(network, options, strategy, policy)
    chunk = options.steps_per_execution or throughput.steps_per_execution(global_batch)
    out.print(
        f"training {network.name} on {config.dataset.name}: {data.train_count:,} "
        f"images, {steps} steps of {global_batch} per epoch ({chunk} per call), "
        f"{replicas} replica(s) ({type(strategy).__name__}), {policy}"
        f"{', XLA' if options.jit else ''}, run dir {run_dir}"
    )
    start_epoch = int(epoch_counter.numpy())
    for epoch in range(start_epoch, config.epochs):
        record = _train_epoch(
            network,
            config,
            step_fns,
            distributed_train,
            optimizer,
            epoch,
            steps,
            chunk,
            global_batch,
            out,
        )
        with _dataset_errors(network, config):
            record.update(_evaluate(step_fns, distributed_test))
        record["mfu"] = throughput.mfu(record["images_per_second"])
        history.append(record)
        epoch_counter.assign(epoch + 1)
        if chief:
            # The optimizer's step count shows a resumed run continued its state.
            extra = {
                "network": network.name,
                "replicas": replicas,
                "optimizer_steps": int(optimizer.iterations.numpy()),
                "dataset": config.dataset.name,
                "precision": policy,
                "jit": options.jit,
                "steps_per_execution": chunk,
            }
            write_metrics(run_dir, history, extra)
            assert writer is not None
            with writer.as_default(step=epoch + 1):
                for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
                    tf.summary.scalar(key, record[key])
        manager.save(checkpoint_number=epoch + 1)
        out.print(
            f"epoch {epoch + 1}/{config.epochs}  loss {record['loss']:.4f}  acc "
            f"{record['accuracy']:.4f}  val_loss {record['val_loss']:.4f}  val_acc "
            f"{record['val_accuracy']:.4f}  lr {record['lr']:.3g}  {record['seconds']:.1f}s  "
            f"{record['images_per_second']:.0f} img/s"
            + (f"  MFU {record['mfu']:.1%}" if record["mfu"] is not None else "")
        )
    if chief:
        models.inference.save(run_dir / "model.keras")
    else:
        shutil.rmtree(checkpoint_dir, ignore_errors=True)
    last = history[-1] if history else {"val_accuracy": math.nan, "val_loss": math.nan}
    return RunResult(run_dir, len(history), float(last["val_accuracy"]), float(last["val_loss"]))


@dataclass(frozen=True)
class Throughput:
    """What the static analysis says a training image costs, against the devices' peak."""

    flops_per_image: float
    peak: float | None  # FLOP/s of all replicas at the compute precision; None: unknown

    @classmethod
    def of(
        cls, network: Network, options: RunOptions, strategy: tf.distribute.Strategy, policy: str
    ) -> Throughput:
        totals = analyse(network).totals
        assert totals is not None  # the CLI trains only networks that check without errors
        if options.peak_tflops:
            peak = options.peak_tflops * 1e12 * strategy.num_replicas_in_sync
        elif tf.config.list_physical_devices("GPU"):
            peak = None  # it depends on the card and precision: say it with --peak-tflops
        else:
            peak = cpu_peak_flops(dtype=keras.DTypePolicy(policy).compute_dtype)
        return cls(training_flops_per_image(totals.macs + totals.aux_macs), peak)

    def mfu(self, images_per_second: float) -> float | None:
        return images_per_second * self.flops_per_image / self.peak if self.peak else None

    def steps_per_execution(self, global_batch: int) -> int:
        """Enough steps per call that Python's few milliseconds per call stop showing."""
        if not self.peak:
            return 1
        fastest_step = global_batch * self.flops_per_image / self.peak
        return max(1, min(MAX_STEPS_PER_EXECUTION, int(SECONDS_PER_EXECUTION / fastest_step)))


def _train_epoch(
    network: Network,
    config: TrainConfig,
    step_fns: Any,
    batches: Any,
    optimizer: keras.optimizers.Optimizer,
    epoch: int,
    steps: int,
    chunk: int,
    global_batch: int,
    out: Console,
) -> dict[str, Any]:
    """`steps` optimizer steps, `chunk` per call into TensorFlow; the learning rate and the
    NaN check move once per chunk."""
    total_loss = total_correct = 0.0
    start = time.perf_counter()
    columns = (
        TextColumn(f"epoch {epoch + 1}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
    )
    iterator = iter(batches)
    with Progress(*columns, console=out, transient=True) as progress:
        task = progress.add_task("train", total=steps, status="")
        done = 0
        while done < steps:
            count = min(chunk, steps - done)
            lr = learning_rate(
                config.optimizer.lr, config.schedule, epoch + done / steps, config.epochs
            )
            optimizer.learning_rate.assign(lr)
            with _dataset_errors(network, config):
                loss, correct = (float(v) for v in step_fns.train(iterator, tf.constant(count)))
            if not np.isfinite(loss):
                raise _fail(
                    network,
                    "nan-loss",
                    f"the loss became {loss} at epoch {epoch + 1} by step {done + count}",
                    hint="lower the learning rate (--lr) or add batch norm",
                )
            done += count
            total_loss += loss
            total_correct += correct
            rate = done * global_batch / (time.perf_counter() - start)
            progress.update(
                task, advance=count, status=f"loss {total_loss / done:.4f}  {rate:.0f} img/s"
            )
    seconds = time.perf_counter() - start
    return {
        "epoch": epoch + 1,
        "loss": total_loss / steps,
        "accuracy": total_correct / (steps * global_batch),
        "lr": float(optimizer.learning_rate.numpy()),
        "seconds": seconds,
        "images_per_second": steps * global_batch / seconds,
    }


def _evaluate(step_fns: Any, batches: Any) -> dict[str, float]:
    total_loss = total_correct = count = 0.0
    for batch in batches:
        loss, correct, seen = (float(v) for v in step_fns.evaluate(batch))
        total_loss, total_correct, count = total_loss + loss, total_correct + correct, count + seen
    return {
        "val_loss": total_loss / max(count, 1),
        "val_accuracy": total_correct / max(count, 1),
        "val_images": int(count),
    }
