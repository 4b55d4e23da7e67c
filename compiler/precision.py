"""Mixed precision: which Keras dtype policy `--mixed-precision` means on this machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras
import tensorflow as tf

from compiler.hardware import arithmetic_intensity, bfloat16_pays, cpu_flags
from netspec.analysis.report import Totals


def mixed_policy() -> str:
    """float16 on GPUs (tensor cores); bfloat16 on CPUs, which oneDNN runs natively where
    the CPU has AVX-512 BF16 or AMX and emulates elsewhere."""
    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    return "mixed_bfloat16"


def mixed_by_default(totals: Totals) -> bool:
    """On CPUs where bfloat16 trains a network of these static totals faster than float32
    (it learns as well: README, Performance); GPUs opt in."""
    if tf.config.list_physical_devices("GPU"):
        return False
    return bfloat16_pays(cpu_flags(), arithmetic_intensity(totals))


def policy_name(mixed: bool | None, totals: Totals) -> str:
    """`mixed` None: the default for this machine and a network of these static totals."""
    if mixed is None:
        mixed = mixed_by_default(totals)
    return mixed_policy() if mixed else "float32"


@contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Layers built inside take the policy; the process-wide default is restored after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def wrap_optimizer(
    optimizer: keras.optimizers.Optimizer, policy: str
) -> keras.optimizers.Optimizer:
    """float16 gradients underflow without loss scaling; bfloat16 has float32's range."""
    if policy == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
