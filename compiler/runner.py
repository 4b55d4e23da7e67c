"""`netspec train`: fit a prepared session (compiler.session) with the one custom loop.

A run is resumable at any step: inside an epoch a checkpoint (model, optimizer and the
position: epoch, step, images seen, the epoch's running sums) is saved every
`--checkpoint-every` steps or minutes and on SIGTERM; the batches of epoch e come in an
order fixed by the seed and e, so `--resume` skips exactly the consumed ones. After each
epoch the metrics are written, then the checkpoint; on `--resume` the history is cut back
to the checkpoint's completed epochs.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from compiler.checkpoint_clock import CheckpointClock, Termination, agree, catching_sigterm
from compiler.devices import local_gpus
from compiler.distribute import LOST_PEER_ERRORS, is_multi_worker, lost_worker
from compiler.gpu_peaks import gpus_peak
from compiler.hardware import cpu_peak, matmul_flops, training_flops_per_image
from compiler.loop import Steps, make_steps
from compiler.optim import learning_rate
from compiler.precise_bn import DEFAULT_BATCHES, make_recompute
from compiler.run_dir import CheckpointNotSaved, save_checkpoint, save_model
from compiler.run_record import run_record
from compiler.session import CheckedSpec, RunOptions, Session, dataset_errors, fail, prepare
from netspec.analysis.report import Totals
from netspec.records import (
    MODEL_FILE,
    RUN_FILE,
    EpochRecord,
    Metrics,
    write_metrics,
    write_record,
)

# Measured here (README, Performance): 8 steps per call trained Fashion-MNIST's 25 ms steps
# 8% faster than 1; cifar_trimmed's 1.5 s steps gained nothing. A call covering at least
# this much work at the devices' peak hides the Python overhead.
SECONDS_PER_EXECUTION = 0.2
MAX_STEPS_PER_EXECUTION = 16


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    epochs_completed: int
    val_accuracy: float
    val_loss: float
    optimizer_steps: int
    images_seen: int
    stopped: bool = False  # by SIGTERM, after saving a checkpoint


def run(spec: CheckedSpec, options: RunOptions, console: Console) -> RunResult:
    return fit(prepare(spec, options, console))


def fit(session: Session) -> RunResult:
    """Train a prepared session to its last epoch, or until SIGTERM (then save and stop)."""
    try:
        return _fit(session)
    except LOST_PEER_ERRORS as exc:
        if not is_multi_worker(session.strategy):
            raise
        position = session.position
        raise fail(
            session.network,
            "lost-worker",
            f"the multi-worker run lost {lost_worker(exc)} (at epoch {position.epoch + 1}, "
            f"step {position.step})",
            hint="restart every worker with the same command plus --resume: they continue "
            f"from the last checkpoint in {session.run_dir / 'checkpoints'}",
        ) from None


@dataclass(frozen=True)
class _Loop:
    """What every epoch of one `fit` shares, built once."""

    steps: Steps
    chunk: int  # optimizer steps per call into TensorFlow
    clock: CheckpointClock
    termination: Termination
    throughput: Throughput
    recompute_bn: Callable[[Iterator[object], int], None]
    bn_batches: int
    test_batches: Any  # distributed
    writer: Any  # TensorBoard's, on the chief only

    @classmethod
    def of(cls, session: Session, termination: Termination) -> _Loop:
        strategy, options = session.strategy, session.options
        throughput = Throughput.of(session.totals, options, strategy, session.policy)
        bn_batches = DEFAULT_BATCHES if options.bn_batches is None else options.bn_batches
        return cls(
            steps=make_steps(
                strategy,
                session.models,
                session.optimizer,
                session.network.classes,
                session.config.label_smoothing,
                session.global_batch,
                jit_compile=options.jit,
            ),
            chunk=options.steps_per_execution
            or throughput.steps_per_execution(session.global_batch),
            clock=CheckpointClock(options.checkpoint_every),
            termination=termination,
            throughput=throughput,
            recompute_bn=make_recompute(strategy, session.models.training),
            bn_batches=min(bn_batches, session.steps_per_epoch),
            test_batches=strategy.experimental_distribute_dataset(session.test_batches),
            writer=tf.summary.create_file_writer(str(session.run_dir / "logs"))
            if session.chief
            else None,
        )


def _fit(session: Session) -> RunResult:
    network, config, options = session.network, session.config, session.options
    position, out = session.position, session.console
    with catching_sigterm() as termination:
        loop = _Loop.of(session, termination)
        strategy = session.strategy
        if session.chief:
            record = run_record(session, loop.chunk, loop.bn_batches)
            write_record(session.run_dir / RUN_FILE, record)
        out.print(
            f"training {network.name} on {config.dataset.name}: "
            f"{session.data.train_count:,} images, {session.steps_per_epoch} steps of "
            f"{session.global_batch} per epoch ({loop.chunk} per call), "
            f"{strategy.num_replicas_in_sync} replica(s) ({type(strategy).__name__}), "
            f"{session.policy}{', XLA' if options.jit else ''}, run dir {session.run_dir}"
        )
        out.print(loop.throughput.peak_source)
        if position.step:
            out.print(f"resuming epoch {position.epoch + 1} at step {position.step}")
        while position.epoch < config.epochs:
            if not _train_epoch(session, loop):
                out.print(
                    f"stopped by SIGTERM at epoch {position.epoch + 1}, step {position.step}: "
                    f"checkpoint saved in {session.run_dir / 'checkpoints'}; run the same "
                    "command with --resume to continue"
                )
                return _result(session, stopped=True)
            _end_epoch(session, loop)
    if session.chief:
        save_model(session.models.inference, session.run_dir / MODEL_FILE)
    else:
        shutil.rmtree(session.manager.directory, ignore_errors=True)
    return _result(session)


def _end_epoch(session: Session, loop: _Loop) -> None:
    """Statistics for batch norm, evaluation, metrics, the checkpoint, the epoch's line."""
    position, config = session.position, session.config
    epoch = position.epoch
    trained = _epoch_training(session)
    start = time.perf_counter()
    if loop.bn_batches:
        batches = session.train_batches(epoch).take(loop.bn_batches)
        distributed = session.strategy.experimental_distribute_dataset(batches)
        loop.recompute_bn(iter(distributed), loop.bn_batches)
    bn_seconds = time.perf_counter() - start
    with dataset_errors(session.network, session.config):
        evaluated = _evaluate(loop.steps, loop.test_batches)
    record = EpochRecord(
        epoch=epoch + 1,
        **trained,
        bn_seconds=bn_seconds,
        **evaluated,
        mfu=loop.throughput.mfu(trained["images_per_second"]),
    )
    session.history.append(record)
    position.next_epoch()
    if session.chief:
        _write_epoch(session, record, loop)
    _save(session, loop)
    session.console.print(
        f"epoch {epoch + 1}/{config.epochs}  loss {record.loss:.4f}  acc "
        f"{record.accuracy:.4f}  val_loss {record.val_loss:.4f}  val_acc "
        f"{record.val_accuracy:.4f}  lr {record.lr:.3g}  {record.seconds:.1f}s  "
        f"{record.images_per_second:.0f} img/s"
        + (f"  MFU {record.mfu:.1%}" if record.mfu is not None else "")
    )


def _save(session: Session, loop: _Loop) -> None:
    try:
        save_checkpoint(session.manager, session.optimizer.iterations)
    except CheckpointNotSaved as exc:
        raise fail(
            session.network,
            "checkpoint",
            str(exc),
            hint="free space, then run the same command with --resume",
        ) from None
    loop.clock.saved()


def _result(session: Session, stopped: bool = False) -> RunResult:
    history = session.history
    return RunResult(
        session.run_dir,
        len(history),
        history[-1].val_accuracy if history else math.nan,
        history[-1].val_loss if history else math.nan,
        int(session.optimizer.iterations.numpy()),
        session.position.images_seen,
        stopped,
    )


def _write_epoch(session: Session, record: EpochRecord, loop: _Loop) -> None:
    metrics = Metrics(
        # The optimizer's step count and the images seen show a resumed run kept its state.
        optimizer_steps=int(session.optimizer.iterations.numpy()),
        images_seen=session.position.images_seen,
        history=tuple(session.history),
    )
    write_metrics(session.run_dir, metrics)
    with loop.writer.as_default(step=record.epoch):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
            tf.summary.scalar(key, getattr(record, key))


@dataclass(frozen=True)
class Throughput:
    """What the static analysis says a training image costs, against the devices' peak."""

    flops_per_image: float
    peak: float | None  # FLOP/s of all replicas at the compute precision; None: unknown
    # Where the peak came from, for the run's first line.
    peak_source: str

    @classmethod
    def of(
        cls, totals: Totals, options: RunOptions, strategy: tf.distribute.Strategy, policy: str
    ) -> Throughput:
        flops = training_flops_per_image(totals)
        if options.peak_tflops:
            replicas = strategy.num_replicas_in_sync
            peak = options.peak_tflops * 1e12 * replicas
            return cls(flops, peak, f"peak {peak / 1e9:,.0f} GFLOP/s from --peak-tflops")
        compute_dtype = keras.DTypePolicy(policy).compute_dtype
        gpus = local_gpus()
        if gpus:
            tensor_float_32 = tf.config.experimental.tensor_float_32_execution_enabled()
            replicas = strategy.num_replicas_in_sync
            return cls(flops, *gpus_peak(gpus[0].name, compute_dtype, replicas, tensor_float_32))
        found = cpu_peak(dtype=compute_dtype, probe=matmul_flops)
        if found is None:
            return cls(flops, None, "no MFU: the CPU's clock cannot be read")
        return cls(flops, found.flops, found.describe())

    def mfu(self, images_per_second: float) -> float | None:
        return images_per_second * self.flops_per_image / self.peak if self.peak else None

    def steps_per_execution(self, global_batch: int) -> int:
        """Enough steps per call that Python's few milliseconds per call stop showing."""
        if not self.peak:
            return 1
        fastest_step = global_batch * self.flops_per_image / self.peak
        return max(1, min(MAX_STEPS_PER_EXECUTION, int(SECONDS_PER_EXECUTION / fastest_step)))


def _train_epoch(session: Session, loop: _Loop) -> bool:
    """The current epoch's remaining steps, `loop.chunk` per call into TensorFlow (the
    learning rate and the NaN check move once per chunk), saving when the clock says so.
    False when SIGTERM stopped it (after a save)."""
    position, config, optimizer = session.position, session.config, session.optimizer
    clock = loop.clock
    epoch, steps, global_batch = position.epoch, session.steps_per_epoch, session.global_batch
    batches = session.train_batches(epoch).skip(position.step)
    iterator = iter(session.strategy.experimental_distribute_dataset(batches))
    columns = (
        TextColumn(f"epoch {epoch + 1}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeRemainingColumn(),
    )
    start, first_step = time.perf_counter(), position.step
    seconds_before = float(position.seconds_variable.numpy())
    with Progress(*columns, console=session.console, transient=True) as progress:
        task = progress.add_task("train", total=steps, completed=first_step, status="")
        while position.step < steps:
            done = position.step
            count = min(
                loop.chunk,
                steps - done,
                clock.steps_until_due(int(optimizer.iterations.numpy())) or loop.chunk,
            )
            optimizer.learning_rate.assign(
                learning_rate(
                    config.optimizer.lr, config.schedule, epoch + done / steps, config.epochs
                )
            )
            with dataset_errors(session.network, session.config):
                loss, correct = (float(v) for v in loop.steps.train(iterator, tf.constant(count)))
            if not np.isfinite(loss):
                raise fail(
                    session.network,
                    "nan-loss",
                    f"the loss became {loss} at epoch {epoch + 1} by step {done + count}",
                    hint="lower the learning rate (--lr) or add batch norm",
                )
            position.advance(count, count * global_batch, loss, correct)
            elapsed = time.perf_counter() - start
            position.seconds_variable.assign(seconds_before + elapsed)
            mid_epoch = position.step < steps
            save, stop = agree(
                session.strategy,
                mid_epoch and clock.due(int(optimizer.iterations.numpy())),
                loop.termination.requested,
            )
            if save or stop:
                _save(session, loop)
            if stop:
                return False
            rate = (position.step - first_step) * global_batch / elapsed
            average = float(position.loss_sum.numpy()) / position.step
            progress.update(task, advance=count, status=f"loss {average:.4f}  {rate:.0f} img/s")
    return True


def _epoch_training(session: Session) -> dict[str, float]:
    position, steps, batch = session.position, session.steps_per_epoch, session.global_batch
    seconds = float(position.seconds_variable.numpy())
    return {
        "loss": float(position.loss_sum.numpy()) / steps,
        "accuracy": float(position.correct_sum.numpy()) / (steps * batch),
        "lr": float(session.optimizer.learning_rate.numpy()),
        "seconds": seconds,
        "images_per_second": steps * batch / seconds,
    }


def _evaluate(step_fns: Steps, batches: Any) -> dict[str, Any]:
    total_loss = total_correct = count = 0.0
    for batch in batches:
        loss, correct, seen = (float(v) for v in step_fns.evaluate(batch))
        total_loss, total_correct, count = total_loss + loss, total_correct + correct, count + seen
    return {
        "val_loss": total_loss / max(count, 1),
        "val_accuracy": total_correct / max(count, 1),
        "val_images": int(count),
    }
