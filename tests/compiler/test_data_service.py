"""`--data-service`: the input pipeline runs on TensorFlow's own tf.data service (a
dispatcher and a worker started here, in-process, on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tensorflow as tf
from rich.console import Console

from compiler.runner import run
from compiler.session import CheckedSpec, RunOptions, TrainingError
from tests.compiler.workers import free_ports

pytestmark = pytest.mark.keras

SPEC = (
    "network f\ninput 28x28x1\nclasses 10\nconv 3x3 8 bn\ngap\ndense classes\n"
    "train:\n  dataset synthetic\n  batch 16\n"
)


@pytest.fixture
def service() -> Iterator[tuple[str, tf.data.experimental.service.WorkerServer]]:
    dispatcher = tf.data.experimental.service.DispatchServer(
        tf.data.experimental.service.DispatcherConfig(port=0)
    )
    dispatcher_address = dispatcher.target.split("://")[1]
    (port,) = free_ports(1)
    worker = tf.data.experimental.service.WorkerServer(
        tf.data.experimental.service.WorkerConfig(
            dispatcher_address=dispatcher_address,
            worker_address=f"127.0.0.1:{port}",
            port=port,
        )
    )
    yield dispatcher.target, worker
    worker._stop()
    dispatcher._stop()


def train(tmp_path: Path, **options: object):  # type: ignore[no-untyped-def]
    spec = CheckedSpec.of(SPEC, str(tmp_path / "spec.ns"))
    settings = RunOptions(out_dir=tmp_path / "run", **options)  # type: ignore[arg-type]
    return run(spec, settings, Console(quiet=True))


@pytest.mark.slow
def test_training_reads_its_batches_from_the_service(
    tmp_path: Path, service: tuple[str, tf.data.experimental.service.WorkerServer]
) -> None:
    address, worker = service
    result = train(tmp_path, data_service=address, epochs=2, steps_per_epoch=5, bn_batches=2)
    assert result.epochs_completed == 2
    assert result.optimizer_steps == 10 and result.images_seen == 10 * 16
    assert worker._num_tasks() >= 1  # the worker did produce the batches


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("localhost:5000", "use grpc://HOST:PORT"),
        ("grpc://localhost", "use grpc://HOST:PORT"),
        ("grpc://127.0.0.1:{free}", "no tf.data service dispatcher answers"),
    ],
)
def test_a_bad_or_silent_dispatcher_is_a_diagnostic(
    tmp_path: Path, address: str, message: str
) -> None:
    address = address.format(free=free_ports(1)[0])
    with pytest.raises(TrainingError) as raised:
        train(tmp_path, data_service=address)
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "data-service" and message in diagnostic.message
