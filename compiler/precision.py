"""The compute precision and XLA, chosen by rule from a described machine (pure
functions), with what was chosen and why for `train`'s first lines.

GPUs: float16 with Keras' loss scaling where tensor cores run it (compute capability 7.0:
V100 and newer), as TensorFlow's mixed-precision guide and Ultralytics do; float32 below
(no tensor cores: float16 saves memory but no arithmetic). bfloat16 only when asked: on
TensorFlow's GPUs some ops have no bfloat16 kernel and fall back to the CPU. XLA on for one
GPU (batches keep one shape: the training pipeline drops the short last batch, so nothing
recompiles); off under MirroredStrategy and multi-worker, where XLA with mixed precision
fails in `merge_call` (keras-team/keras#20763, #17187). CPUs: bfloat16 where measured
faster (compiler.hardware.bfloat16_pays), XLA off (measured slower).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import keras

from compiler.devices import Machine, this_machine
from compiler.hardware import BFLOAT16_MIN_FLOPS_PER_BYTE, arithmetic_intensity, bfloat16_pays
from netspec.analysis.report import Totals

TENSOR_CORES = (7, 0)  # Volta
BFLOAT16_TENSOR_CORES = (8, 0)  # Ampere


@dataclass(frozen=True)
class Choice:
    """A setting's value and the reason, as `train` prints it."""

    value: str | bool
    why: str


@dataclass(frozen=True)
class Compute:
    policy: str  # Keras dtype policy
    jit: bool
    reasons: tuple[str, ...]


def _capability(machine: Machine) -> tuple[int, int]:
    """The oldest card's: every replica runs the same program."""
    return min(gpu.compute_capability for gpu in machine.gpus)


def _version(capability: tuple[int, int]) -> str:
    return f"{capability[0]}.{capability[1]}"


def mixed_policy(machine: Machine) -> str:
    """What `--mixed-precision` means: float16 on GPUs (tensor cores), bfloat16 on CPUs,
    which oneDNN runs natively with AVX-512 BF16 or AMX and emulates elsewhere."""
    return "mixed_float16" if machine.gpus else "mixed_bfloat16"


def default_policy(machine: Machine, flops_per_byte: float) -> Choice:
    if not machine.gpus:
        if bfloat16_pays(set(machine.cpu_flags), flops_per_byte):
            return Choice(
                "mixed_bfloat16",
                f"the CPU computes bfloat16 natively and the network does {flops_per_byte:,.0f}"
                f" FLOPs per activation byte (>= {BFLOAT16_MIN_FLOPS_PER_BYTE:.0f}): measured "
                "faster than float32",
            )
        return Choice("float32", "bfloat16 measured no faster for this network on this CPU")
    capability = _capability(machine)
    if capability >= TENSOR_CORES:
        return Choice(
            "mixed_float16",
            f"tensor cores (compute capability {_version(capability)} >= 7.0): float16 with "
            "loss scaling",
        )
    return Choice(
        "float32",
        f"no tensor cores below compute capability 7.0 (this GPU: {_version(capability)})",
    )


def choose_policy(
    machine: Machine, flops_per_byte: float, mixed: bool | None = None, bfloat16: bool = False
) -> Choice:
    """`mixed` None and no `bfloat16`: the default for this machine and network."""
    if bfloat16:
        why = "asked (--bfloat16)"
        if machine.gpus and _capability(machine) < BFLOAT16_TENSOR_CORES:
            why += "; no bfloat16 tensor cores below compute capability 8.0: emulated, slow"
        return Choice("mixed_bfloat16", why)
    if mixed is None:
        return default_policy(machine, flops_per_byte)
    if mixed:
        return Choice(mixed_policy(machine), "asked (--mixed-precision)")
    return Choice("float32", "asked (--no-mixed-precision)")


def policy_name(mixed: bool | None, totals: Totals) -> str:
    """The policy `netspec train` chooses on this machine for a network of these totals."""
    return str(choose_policy(this_machine(), arithmetic_intensity(totals), mixed).value)


def default_jit(machine: Machine) -> Choice:
    if not machine.gpus:
        return Choice(False, "measured slower on CPUs")
    if machine.distribution == "one device":
        return Choice(True, "one GPU; every batch has one shape, so XLA compiles once")
    return Choice(
        False,
        f"{machine.distribution}: XLA with mixed precision fails in merge_call "
        "(keras-team/keras#20763, #17187)",
    )


def choose_jit(machine: Machine, asked: bool | None = None) -> Choice:
    if asked is None:
        return default_jit(machine)
    return Choice(asked, f"asked (--{'' if asked else 'no-'}jit)")


def choose_compute(
    machine: Machine,
    flops_per_byte: float,
    mixed: bool | None = None,
    bfloat16: bool = False,
    jit: bool | None = None,
) -> Compute:
    policy = choose_policy(machine, flops_per_byte, mixed, bfloat16)
    xla = choose_jit(machine, jit)
    return Compute(
        str(policy.value),
        bool(xla.value),
        (
            f"precision {policy.value}: {policy.why}",
            f"XLA {'on' if xla.value else 'off'}: {xla.why}",
        ),
    )


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
