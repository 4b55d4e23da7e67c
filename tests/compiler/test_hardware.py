"""Peak throughput for MFU, from /proc/cpuinfo text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from compiler.hardware import (
    BFLOAT16_MIN_FLOPS_PER_BYTE,
    arithmetic_intensity,
    bfloat16_pays,
    cpu_name,
    cpu_peak,
    training_flops_per_image,
)
from netspec.analysis.report import Totals
from netspec.api import check_file
from tests.helpers import SPECS

CORES = len(os.sched_getaffinity(0))
# No cpufreq directory: the clock comes from the cpuinfo text under test, on any machine.
NO_CPUFREQ = Path("/nonexistent/cpufreq")


def amd(family: int, model: int, flags: str, megahertz: str = "2600.000") -> str:
    return (
        f"processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: {family}\n"
        f"model\t\t: {model}\nmodel name\t: AMD EPYC\ncpu MHz\t\t: {megahertz}\n"
        f"flags\t\t: {flags}\n"
    )


@pytest.mark.parametrize(
    ("flags", "per_cycle"),
    [("fpu sse2 avx fma avx2", 32), ("fpu sse2 avx avx512f fma", 64), ("fpu sse2", 8)],
)
def test_peak_is_cores_times_clock_times_vector_width(flags: str, per_cycle: int) -> None:
    cpuinfo = f"processor\t: 0\ncpu MHz\t\t: 2000.000\nflags\t\t: {flags}\n"
    peak = cpu_peak(cpuinfo, cpufreq=NO_CPUFREQ)
    assert peak is not None and peak.flops == CORES * 2e9 * per_cycle


@pytest.mark.parametrize(
    ("flags", "per_cycle"),
    [("avx512f fma avx512_bf16 amx_bf16", 1024), ("avx512f fma avx512_bf16", 128),
     ("avx fma avx2", 32)],
)  # fmt: skip
def test_bfloat16_peak_counts_amx_and_avx512_bf16(flags: str, per_cycle: int) -> None:
    cpuinfo = f"processor\t: 0\ncpu MHz\t\t: 2000.000\nflags\t\t: {flags}\n"
    peak = cpu_peak(cpuinfo, "bfloat16", NO_CPUFREQ)
    assert peak is not None and peak.flops == CORES * 2e9 * per_cycle


def test_no_clock_no_peak() -> None:
    assert cpu_peak("processor : 0\n", cpufreq=NO_CPUFREQ) is None


AVX512 = "sse2 avx fma avx2 avx512f avx512_bf16"
ZEN4_NAME = "Zen 4 (AVX-512 as two 256-bit halves)"


@pytest.mark.parametrize(
    ("family", "model", "dtype", "per_cycle", "core"),
    [
        (25, 0x11, "float32", 32, "Zen 4"),  # Genoa: AVX-512 flags, 256-bit halves
        (25, 0x11, "bfloat16", 64, "Zen 4"),
        (25, 0x61, "float32", 32, "Zen 4"),  # Raphael
        (26, 0x02, "float32", 64, "Zen 5 server"),  # Turin: full 512-bit units
        (26, 0x02, "bfloat16", 128, "Zen 5 server"),
        (26, 0x24, "float32", 32, "Zen 5 mobile"),
    ],
)
def test_amd_cores_count_by_micro_architecture_not_flags(
    family: int, model: int, dtype: str, per_cycle: int, core: str
) -> None:
    peak = cpu_peak(amd(family, model, AVX512), dtype, NO_CPUFREQ)
    assert peak is not None
    assert (peak.per_cycle, peak.flops) == (per_cycle, CORES * 2.6e9 * per_cycle)
    assert peak.per_cycle_source.startswith(core)
    assert f"{per_cycle} FLOP/cycle ({core}" in peak.describe()


def test_a_cpu_is_named_with_the_numbers_that_tell_its_cores_apart() -> None:
    # Both are "AMD EPYC": only family and model say Zen 4 (half-width AVX-512) or Zen 5.
    assert cpu_name(amd(25, 0x11, AVX512)) == "AMD EPYC (family 25, model 17: " + ZEN4_NAME + ")"
    assert cpu_name(amd(26, 2, AVX512)).startswith("AMD EPYC (family 26, model 2: Zen 5 server")
    intel = "vendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\nmodel name\t: Xeon\n"
    assert cpu_name(intel) == "Xeon (family 6, model 143)"


def test_an_unknown_core_falls_back_to_its_widest_flag() -> None:
    peak = cpu_peak(amd(99, 1, AVX512), "float32", NO_CPUFREQ)
    assert peak is not None
    assert (peak.per_cycle, peak.per_cycle_source) == (64, "avx512f flag, float32")


def test_the_clock_comes_from_cpufreq_where_the_kernel_has_it(tmp_path: Path) -> None:
    (tmp_path / "scaling_max_freq").write_text("3700000\n")
    peak = cpu_peak(amd(26, 2, AVX512), "float32", tmp_path)
    assert peak is not None
    assert (peak.hertz, peak.clock_source) == (3.7e9, "cpufreq scaling_max_freq")
    assert "3.70 GHz (cpufreq scaling_max_freq)" in peak.describe()


def test_without_cpufreq_or_cpu_mhz_the_model_name_gives_the_rated_clock() -> None:
    cpuinfo = "model name\t: Intel(R) Xeon(R) Platinum 8480+ @ 2.00GHz\nflags\t\t: avx512f\n"
    peak = cpu_peak(cpuinfo, "float32", NO_CPUFREQ)
    assert peak is not None
    assert (peak.hertz, peak.clock_source) == (2e9, "model name")


def test_the_highest_maximum_the_cpu_reports_wins(tmp_path: Path) -> None:
    (tmp_path / "cpuinfo_max_freq").write_text("3700000\n")
    (tmp_path / "scaling_max_freq").write_text("3000000\n")
    rated = amd(26, 2, AVX512).replace("AMD EPYC", "AMD EPYC 9B45 @ 2.10GHz")
    peak = cpu_peak(rated, "float32", tmp_path, probe=never)
    assert peak is not None
    assert (peak.hertz, peak.clock_source) == (3.7e9, "cpufreq cpuinfo_max_freq")
    higher = amd(26, 2, AVX512).replace("AMD EPYC", "AMD EPYC 9B45 @ 4.10GHz")
    peak = cpu_peak(higher, "float32", tmp_path, probe=never)
    assert peak is not None
    assert (peak.hertz, peak.clock_source) == (pytest.approx(4.1e9), "model name")


def never() -> float:
    raise AssertionError("no probe where the CPU reports its maximum clock")


def test_without_a_maximum_clock_a_matmul_probe_sets_the_peak() -> None:
    # Issue 16: a VM's `cpu MHz` is its nominal 2.60 GHz, a float32 matmul runs faster
    # than that clock's peak: the clock is what the matmul implies, and the MFU stays <= 1.
    measured = CORES * 3.1e9 * 32
    peak = cpu_peak(amd(25, 0x11, AVX512), "bfloat16", NO_CPUFREQ, probe=lambda: measured)
    assert peak is not None
    assert peak.hertz == pytest.approx(3.1e9)
    assert peak.flops == pytest.approx(CORES * 3.1e9 * 64)  # Zen 4's bfloat16 rate
    assert f"a float32 matmul's {measured / 1e9:,.0f} GFLOP/s" in peak.describe()


def test_a_probe_slower_than_cpu_mhz_keeps_cpu_mhz() -> None:
    slow = CORES * 1e9 * 32  # the other processes' load slowed the matmul
    peak = cpu_peak(amd(25, 0x11, AVX512), "float32", NO_CPUFREQ, probe=lambda: slow)
    assert peak is not None
    assert (peak.hertz, peak.clock_source) == (
        2.6e9,
        f"cpu MHz, above a float32 matmul's {slow / 1e9:,.0f} GFLOP/s; no maximum clock reported",
    )


def totals(macs: int, aux_macs: int | None, activation_bytes: int | None = None) -> Totals:
    return Totals.model_construct(
        macs=macs, aux_macs=aux_macs, training_activation_bytes=activation_bytes
    )


def test_a_training_step_costs_three_forward_passes_aux_heads_included() -> None:
    assert training_flops_per_image(totals(1_000, 500)) == 9_000
    # Where an aux head cannot be built, the network alone.
    assert training_flops_per_image(totals(1_000, None)) == 6_000


def test_arithmetic_intensity_is_training_flops_per_kept_activation_byte() -> None:
    assert arithmetic_intensity(totals(1_000, 500, activation_bytes=90)) == 100


@pytest.mark.parametrize(
    ("flags", "flops_per_byte", "pays"),
    [
        ("avx512f avx512_bf16 amx_bf16", 1, True),  # AMX: 16x float32's rate
        ("avx512f avx512_bf16", BFLOAT16_MIN_FLOPS_PER_BYTE / 2, False),  # memory-bound
        ("avx512f avx512_bf16", BFLOAT16_MIN_FLOPS_PER_BYTE, True),
        ("avx512f avx2 fma", 1e6, False),  # emulated bfloat16
    ],
)
def test_bfloat16_is_the_default_where_it_trains_faster(
    flags: str, flops_per_byte: float, pays: bool
) -> None:
    assert bfloat16_pays(set(flags.split()), flops_per_byte) is pays


@pytest.mark.parametrize(
    ("spec", "pays"),
    [
        ("fashion_mnist", False),  # measured 0.95-1.10x
        ("zoo/mobilenet_v2", False),  # 0.78x
        ("zoo/squeezenet1_1", True),  # 1.98x
        ("cifar_trimmed", True),  # 1.25-1.43x
        ("googlenet", True),  # 1.54x
    ],
)
def test_on_avx512_bf16_the_default_follows_the_measurements(spec: str, pays: bool) -> None:
    totals = check_file(SPECS / f"{spec}.ns").totals
    assert totals is not None
    assert bfloat16_pays({"avx512f", "avx512_bf16"}, arithmetic_intensity(totals)) is pays
