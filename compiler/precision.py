"""Mixed precision: which Keras dtype policy `--mixed-precision` means on this machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keras
import tensorflow as tf

from compiler.hardware import cpu_flags


def mixed_policy() -> str:
    """float16 on GPUs (tensor cores); bfloat16 on CPUs, which oneDNN runs natively where
    the CPU has AVX-512 BF16 or AMX and emulates elsewhere."""
    if tf.config.list_physical_devices("GPU"):
        return "mixed_float16"
    return "mixed_bfloat16"


def mixed_by_default() -> bool:
    """Measured (README, Performance): on a CPU with AMX, bfloat16 trains cifar_trimmed 1.6x
    faster than float32 and learns as well. With AVX-512 BF16 but no AMX (a Zen 5 EPYC) it
    learned as well but trained fashion_mnist about 0.7x as fast: opt in there."""
    return not tf.config.list_physical_devices("GPU") and "amx_bf16" in cpu_flags()


def policy_name(mixed: bool | None) -> str:
    """`mixed` None: the default for this machine."""
    if mixed is None:
        mixed = mixed_by_default()
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
