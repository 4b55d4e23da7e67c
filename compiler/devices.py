"""What the compute defaults depend on, described as data: the GPUs a strategy trains on
(name and compute capability, as TensorFlow reports them) and how it spreads over them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import tensorflow as tf

from compiler.distribute import is_multi_worker
from compiler.hardware import cpu_flags

Distribution = Literal["one device", "mirrored", "multi-worker"]


@dataclass(frozen=True)
class Gpu:
    name: str  # CUDA's device name: `NVIDIA A100-SXM4-80GB`, `Tesla T4`
    compute_capability: tuple[int, int]


@dataclass(frozen=True)
class Machine:
    gpus: tuple[Gpu, ...]  # empty: training runs on the CPU
    distribution: Distribution = "one device"
    cpu_flags: frozenset[str] = field(default_factory=frozenset)


def local_gpus() -> tuple[Gpu, ...]:
    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        major, minor = details.get("compute_capability", (0, 0))
        gpus.append(Gpu(str(details.get("device_name", "unknown GPU")), (int(major), int(minor))))
    return tuple(gpus)


def distribution_of(strategy: tf.distribute.Strategy) -> Distribution:
    if is_multi_worker(strategy):
        return "multi-worker"
    if isinstance(strategy, tf.distribute.MirroredStrategy):
        return "mirrored"
    return "one device"


def this_machine(strategy: tf.distribute.Strategy | None = None) -> Machine:
    distribution = distribution_of(strategy) if strategy is not None else "one device"
    return Machine(local_gpus(), distribution, frozenset(cpu_flags()))
