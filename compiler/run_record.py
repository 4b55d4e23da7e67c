"""The run record (netspec.records.RunRecord) of a prepared session: what every later
command reads instead of compiling the spec again."""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path

import keras
import tensorflow as tf

from compiler.datasets import ArrayDataset, StreamedDataset
from compiler.hardware import cpu_name
from compiler.pipeline import evaluation_preprocessing
from compiler.session import Session
from netspec.records import Environment, HeldOut, RunRecord


def run_record(session: Session, steps_per_execution: int, bn_batches: int) -> RunRecord:
    network, config, data = session.network, session.config, session.data
    source = network.input
    return RunRecord(
        network=network.name,
        spec=network.file,
        input=(source.height, source.width, source.channels),
        params=session.totals.params,
        macs=session.totals.macs,
        config=config,
        data_dir=None if session.options.data_dir is None else str(session.options.data_dir),
        classes=tuple(data.class_names),
        held_out=held_out(data, config.dataset.path),
        train_images=data.train_count,
        test_images=data.test_count,
        preprocessing=evaluation_preprocessing(data, config, session.normalization),
        steps_per_epoch=session.steps_per_epoch,
        replicas=session.strategy.num_replicas_in_sync,
        strategy=type(session.strategy).__name__,
        precision=session.policy,
        jit=session.options.jit,
        steps_per_execution=steps_per_execution,
        bn_batches=bn_batches,
        environment=environment(),
        configuration=session.options.configuration,
    )


def held_out(data: ArrayDataset | StreamedDataset, root: str | None) -> HeldOut | None:
    """The test images a folder without a test split gave up to the seed."""
    if not isinstance(data, StreamedDataset) or not data.held_out_by_seed or root is None:
        return None
    return HeldOut(
        files=tuple(Path(source).relative_to(root).as_posix() for source in data.test.sources),
        labels=data.test.labels,
    )


def environment() -> Environment:
    try:
        version = metadata.version("netspec")
    except metadata.PackageNotFoundError:
        version = "unknown"
    gpus = tuple(
        tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
        for gpu in tf.config.list_physical_devices("GPU")
    )
    return Environment(
        netspec=version,
        tensorflow=tf.__version__,
        keras=keras.__version__,
        python=platform.python_version(),
        cpu=cpu_name(),
        gpus=gpus,
    )
