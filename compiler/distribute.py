"""Choosing the tf.distribute strategy, and who writes the run directory."""

from __future__ import annotations

import json
import os
import re

import tensorflow as tf

# What a collective raises on the survivors when a peer process dies or stops answering.
LOST_PEER_ERRORS = (
    tf.errors.UnavailableError,
    tf.errors.AbortedError,
    tf.errors.DeadlineExceededError,
    tf.errors.CancelledError,
)
_TASK = re.compile(r"/job:(\w+)/replica:\d+/task:(\d+)")
_REASON = re.compile(r"aborted by: ([^\n]+)")

STRATEGIES = ("auto", "default", "mirrored", "multi-worker")
# With no GPU, `--strategy mirrored` splits the CPU into this many logical devices.
CPU_REPLICAS_ENV = "NETSPEC_CPU_REPLICAS"


class StrategyError(Exception):
    pass


def choose_strategy(name: str) -> tf.distribute.Strategy:
    if name not in STRATEGIES:
        raise StrategyError(f"unknown strategy '{name}': use one of {', '.join(STRATEGIES)}")
    gpus = tf.config.list_physical_devices("GPU")
    if name == "multi-worker":
        if "TF_CONFIG" not in os.environ:
            raise StrategyError(
                "--strategy multi-worker reads the cluster from TF_CONFIG, which is not set"
            )
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        if gpus:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.MirroredStrategy(
            _logical_cpus(int(os.environ.get(CPU_REPLICAS_ENV, "2")))
        )
    if name == "auto" and len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _logical_cpus(count: int) -> list[str]:
    """Split the CPU so a mirrored strategy has replicas to mirror across (tests, trials)."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        # Only possible before TensorFlow initializes its devices, and listing the logical
        # devices would initialize them: try first, then see what is there.
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * count
        )
    except RuntimeError as exc:
        if len(tf.config.list_logical_devices("CPU")) < count:
            raise StrategyError(f"cannot split the CPU into {count} devices: {exc}") from None
    return [f"/cpu:{index}" for index in range(count)]


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not os.environ.get("TF_CONFIG"):
        return True
    task = json.loads(os.environ["TF_CONFIG"]).get("task", {})
    return task.get("type") == "chief" or (
        task.get("type") == "worker"
        and task.get("index", 0) == 0
        and "chief" not in json.loads(os.environ["TF_CONFIG"]).get("cluster", {})
    )


def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def lost_worker(error: tf.errors.OpError) -> str:
    """Which peer TensorFlow's error names, as `worker 1 (host:port)` from TF_CONFIG, and
    why: `worker 1 (127.0.0.1:4000): recvmsg:Connection reset by peer`."""
    reason = _REASON.search(error.message)
    why = reason.group(1).strip() if reason else type(error).__name__
    found = _TASK.search(error.message)
    if found is None:
        return f"a worker: {why}"
    job, index = found.group(1), int(found.group(2))
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    addresses = cluster.get(job, [])
    address = f" ({addresses[index]})" if index < len(addresses) else ""
    return f"{job} {index}{address}: {why}"
