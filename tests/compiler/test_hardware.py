"""Peak throughput for MFU, from /proc/cpuinfo text."""

from __future__ import annotations

import os

import pytest

from compiler.hardware import cpu_peak_flops, training_flops_per_image

CORES = len(os.sched_getaffinity(0))


@pytest.mark.parametrize(
    ("flags", "per_cycle"),
    [("fpu sse2 avx fma avx2", 32), ("fpu sse2 avx avx512f fma", 64), ("fpu sse2", 8)],
)
def test_peak_is_cores_times_clock_times_vector_width(flags: str, per_cycle: int) -> None:
    cpuinfo = f"processor\t: 0\ncpu MHz\t\t: 2000.000\nflags\t\t: {flags}\n"
    assert cpu_peak_flops(cpuinfo) == CORES * 2e9 * per_cycle


@pytest.mark.parametrize(
    ("flags", "per_cycle"),
    [("avx512f fma avx512_bf16 amx_bf16", 1024), ("avx512f fma avx512_bf16", 128),
     ("avx fma avx2", 32)],
)  # fmt: skip
def test_bfloat16_peak_counts_amx_and_avx512_bf16(flags: str, per_cycle: int) -> None:
    cpuinfo = f"processor\t: 0\ncpu MHz\t\t: 2000.000\nflags\t\t: {flags}\n"
    assert cpu_peak_flops(cpuinfo, dtype="bfloat16") == CORES * 2e9 * per_cycle


def test_no_clock_no_peak() -> None:
    assert cpu_peak_flops("processor : 0\n") is None


def test_a_training_step_costs_three_forward_passes() -> None:
    assert training_flops_per_image(1_000) == 6_000
