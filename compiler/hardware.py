"""The device's peak fp32 throughput, for model-FLOP utilisation (MFU)."""

from __future__ import annotations

import os
from pathlib import Path

# fp32 FLOPs per core per cycle: two FMA units of 16 lanes (AVX-512), 8 lanes (AVX2+FMA).
FLOAT32_PER_CYCLE = (("avx512f", 64), ("fma", 32), ("avx", 16), ("sse2", 8))
# bf16: AMX's tile unit does 1,024 per cycle, AVX-512 BF16's dot products 128; a CPU with
# neither converts to float32 and runs at the float32 rate.
BFLOAT16_PER_CYCLE = (("amx_bf16", 1024), ("avx512_bf16", 128), *FLOAT32_PER_CYCLE)
FLOPS_PER_CYCLE = {"float32": FLOAT32_PER_CYCLE, "bfloat16": BFLOAT16_PER_CYCLE}


def _cpuinfo_fields(cpuinfo: str | None) -> dict[str, str]:
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.exists() else ""
    fields = dict(line.split(":", 1) for line in cpuinfo.splitlines() if ":" in line)
    return {key.strip(): value.strip() for key, value in fields.items()}


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    return set(_cpuinfo_fields(cpuinfo).get("flags", "").split())


def cpu_peak_flops(cpuinfo: str | None = None, dtype: str = "float32") -> float | None:
    """cores x clock x FLOPs per cycle at `dtype` (the compute precision), read from
    /proc/cpuinfo; None where it cannot say."""
    fields = _cpuinfo_fields(cpuinfo)
    try:
        megahertz = float(fields["cpu MHz"])
    except (KeyError, ValueError):
        return None
    flags = set(fields.get("flags", "").split())
    per_cycle = next((flops for flag, flops in FLOPS_PER_CYCLE[dtype] if flag in flags), 4)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (cores or 1) * megahertz * 1e6 * per_cycle


def training_flops_per_image(macs: int) -> float:
    """Forward (2 FLOPs per multiply-add) plus backward (about twice the forward)."""
    return 2 * macs * 3
