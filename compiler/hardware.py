"""The device's peak throughput, for model-FLOP utilisation (MFU), and where it came from.

peak = cores x clock x FLOPs per core-cycle. The FLOPs per cycle come from the
micro-architecture where the flags do not tell (Zen 4 has AVX-512 but runs it as two
256-bit halves), else from the widest vector flag. The clock is the highest the CPU
reports as a maximum: cpufreq's, or the rated clock in the model name. `cpu MHz` is not
one: it is the current clock, and in a VM the nominal one (an EPYC Zen 4 VM says 2.60 GHz,
a peak of 166 GFLOP/s, where a float32 matmul runs at 215). Where no maximum is reported,
a short float32 matmul measures the clock the cores at least reach.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netspec.analysis.report import Totals

# fp32 FLOPs per core per cycle: two FMA units of 16 lanes (AVX-512), 8 lanes (AVX2+FMA).
FLOAT32_PER_CYCLE = (("avx512f", 64), ("fma", 32), ("avx", 16), ("sse2", 8))
# bf16: AMX's tile unit does 1,024 per cycle, AVX-512 BF16's dot products 128; a CPU with
# neither converts to float32 and runs at the float32 rate.
BFLOAT16_PER_CYCLE = (("amx_bf16", 1024), ("avx512_bf16", 128), *FLOAT32_PER_CYCLE)
FLOPS_PER_CYCLE = {"float32": FLOAT32_PER_CYCLE, "bfloat16": BFLOAT16_PER_CYCLE}

# bfloat16 against float32 training speed on a Zen 5 EPYC (AVX-512 BF16, no AMX), by the
# network's arithmetic intensity (training FLOPs per byte of kept activations):
# mobilenet_v2 21: 0.78x; fashion_mnist 31: 0.95-1.10x; squeezenet1_1 74: 1.98x;
# cifar_trimmed, googlenet, inception_v3 226-265: 1.25-1.54x.
BFLOAT16_MIN_FLOPS_PER_BYTE = 50.0

CPUFREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq")
_RATED_CLOCK = re.compile(r"@\s*([\d.]+)\s*GHz", re.IGNORECASE)


@dataclass(frozen=True)
class Microarchitecture:
    """A core whose vector units are narrower than its flags suggest."""

    name: str
    float32: int
    bfloat16: int


# AMD (family, model range): the flags are the same as on cores with full-width units.
# Zen and Zen+ split AVX2 into 128-bit halves; Zen 4 and mobile Zen 5 split AVX-512 into
# 256-bit halves (AVX-512 BF16 too). Server and desktop Zen 5 have full 512-bit units.
ZEN4 = Microarchitecture("Zen 4 (AVX-512 as two 256-bit halves)", 32, 64)
ZEN5_MOBILE = Microarchitecture("Zen 5 mobile (AVX-512 as 256-bit halves)", 32, 64)
AMD_CORES = (
    (0x17, range(0x00, 0x30), Microarchitecture("Zen/Zen+ (AVX2 as two 128-bit halves)", 16, 16)),
    (0x17, range(0x30, 0x100), Microarchitecture("Zen 2", 32, 32)),
    (0x19, range(0x00, 0x10), Microarchitecture("Zen 3", 32, 32)),
    (0x19, range(0x20, 0x60), Microarchitecture("Zen 3", 32, 32)),
    (0x19, range(0x10, 0x20), ZEN4),
    (0x19, range(0x60, 0x80), ZEN4),
    (0x19, range(0xA0, 0xB0), ZEN4),
    (0x1A, range(0x00, 0x20), Microarchitecture("Zen 5 server (full 512-bit units)", 64, 128)),
    (0x1A, range(0x40, 0x50), Microarchitecture("Zen 5 desktop (full 512-bit units)", 64, 128)),
    (0x1A, range(0x20, 0x30), ZEN5_MOBILE),
    (0x1A, range(0x60, 0x80), ZEN5_MOBILE),
)  # fmt: skip


@dataclass(frozen=True)
class Peak:
    """The peak FLOP/s of the cores this process may run on, with its reasoning."""

    flops: float
    cores: int
    hertz: float
    clock_source: str
    per_cycle: int
    per_cycle_source: str

    def describe(self) -> str:
        return (
            f"peak {self.flops / 1e9:,.0f} GFLOP/s = {self.cores} core(s) x "
            f"{self.hertz / 1e9:.2f} GHz ({self.clock_source}) x {self.per_cycle} FLOP/cycle "
            f"({self.per_cycle_source})"
        )


def _cpuinfo_fields(cpuinfo: str | None) -> dict[str, str]:
    """The first processor's fields."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.exists() else ""
    first = cpuinfo.split("\n\n", 1)[0]
    fields = dict(line.split(":", 1) for line in first.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in fields.items()}


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    return set(_cpuinfo_fields(cpuinfo).get("flags", "").split())


def cpu_name(cpuinfo: str | None = None) -> str:
    """The model name with its family and model numbers, which tell cores of one name apart
    (`AMD EPYC` is Zen 4 or Zen 5): what every measured figure should be labelled with."""
    fields = _cpuinfo_fields(cpuinfo)
    name = fields.get("model name", "unknown CPU")
    core = microarchitecture(fields)
    numbers = f"family {fields.get('cpu family', '?')}, model {fields.get('model', '?')}"
    return f"{name} ({numbers}{': ' + core.name if core else ''})"


def microarchitecture(fields: dict[str, str]) -> Microarchitecture | None:
    if fields.get("vendor_id") != "AuthenticAMD":
        return None
    try:
        family, model = int(fields["cpu family"]), int(fields["model"])
    except (KeyError, ValueError):
        return None
    return next(
        (core for fam, models, core in AMD_CORES if fam == family and model in models), None
    )


def flops_per_cycle(fields: dict[str, str], dtype: str) -> tuple[int, str]:
    core = microarchitecture(fields)
    if core is not None:
        flags = set(fields.get("flags", "").split())
        if dtype == "bfloat16" and "avx512_bf16" in flags:
            return core.bfloat16, f"{core.name}, {dtype}"
        return core.float32, f"{core.name}, float32"
    flags = set(fields.get("flags", "").split())
    flag, per_cycle = next(
        ((flag, flops) for flag, flops in FLOPS_PER_CYCLE[dtype] if flag in flags),
        ("no vector flags", 4),
    )
    return per_cycle, f"{flag} flag, {dtype}"


def max_clock(fields: dict[str, str], cpufreq: Path = CPUFREQ) -> tuple[float, str] | None:
    """Hz and where from: the highest of cpufreq's maxima and the model name's rated clock."""
    found = []
    for name in ("cpuinfo_max_freq", "scaling_max_freq"):
        with contextlib.suppress(OSError, ValueError):
            found.append((float((cpufreq / name).read_text()) * 1e3, f"cpufreq {name}"))
    rated = _RATED_CLOCK.search(fields.get("model name", ""))
    if rated:
        found.append((float(rated.group(1)) * 1e9, "model name"))
    return max(found, default=None)


def probed_clock(
    fields: dict[str, str], cores: int, probe: Callable[[], float] | None
) -> tuple[float, str] | None:
    """Without a reported maximum: the higher of `cpu MHz` and the clock a float32 matmul
    of `probe()` FLOP/s implies at the float32 rate per cycle; the source names both."""
    current = None
    with contextlib.suppress(KeyError, ValueError):
        current = float(fields["cpu MHz"]) * 1e6
    if probe is None:
        return (current, "cpu MHz, no maximum clock reported") if current else None
    measured = probe()
    per_cycle, _ = flops_per_cycle(fields, "float32")
    implied = measured / (cores * per_cycle)
    matmul = f"a float32 matmul's {measured / 1e9:,.0f} GFLOP/s"
    if current and current >= implied:
        return current, f"cpu MHz, above {matmul}; no maximum clock reported"
    return implied, f"{matmul}; no maximum clock reported"


def matmul_flops(size: int = 1024, repeats: int = 5) -> float:
    """The best of `repeats` float32 matmuls of `size` x `size`, in FLOP/s: a few tenths
    of a second."""
    import tensorflow as tf

    a = tf.random.uniform((size, size))
    tf.linalg.matmul(a, a).numpy()  # warm-up: thread pool, kernels
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        tf.linalg.matmul(a, a).numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def cpu_peak(
    cpuinfo: str | None = None,
    dtype: str = "float32",
    cpufreq: Path = CPUFREQ,
    probe: Callable[[], float] | None = None,
) -> Peak | None:
    """From /proc/cpuinfo and cpufreq at `dtype` (the compute precision), with `probe`
    measuring float32 FLOP/s where no maximum clock is reported; None where no clock is
    known at all."""
    fields = _cpuinfo_fields(cpuinfo)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1
    hertz_and_source = max_clock(fields, cpufreq) or probed_clock(fields, cores, probe)
    if hertz_and_source is None:
        return None
    hertz, clock_source = hertz_and_source
    per_cycle, per_cycle_source = flops_per_cycle(fields, dtype)
    return Peak(cores * hertz * per_cycle, cores, hertz, clock_source, per_cycle, per_cycle_source)


def training_flops_per_image(totals: Totals) -> float:
    """Forward (2 FLOPs per multiply-add) plus backward (about twice the forward), through
    the network and its aux heads, which train with it."""
    return 2 * (totals.macs + (totals.aux_macs or 0)) * 3


def arithmetic_intensity(totals: Totals) -> float:
    """Training FLOPs per byte of the layer outputs a training step keeps (fp32), per
    image: low for networks of thin layers on large maps, whose steps move memory more than
    they multiply."""
    assert totals.training_activation_bytes  # only networks that build whole train
    return training_flops_per_image(totals) / totals.training_activation_bytes


def bfloat16_pays(flags: set[str], flops_per_byte: float) -> bool:
    """Whether bfloat16 trains a network of this arithmetic intensity faster than float32
    on a CPU with these flags (benchmarks/precision.py, README Performance). AMX runs
    bfloat16 at 16x its float32 rate: always. AVX-512 BF16 alone (Zen 4, Zen 5) doubles the
    rate of the arithmetic but not of the memory traffic and the casts around each layer:
    only networks that compute much per byte gain."""
    if "amx_bf16" in flags:
        return True
    return "avx512_bf16" in flags and flops_per_byte >= BFLOAT16_MIN_FLOPS_PER_BYTE
