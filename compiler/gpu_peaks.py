"""Peak dense TFLOP/s of the NVIDIA GPUs users train on, keyed on the device name
TensorFlow reports (CUDA's `cudaDeviceProp.name`), for the MFU figure.

Every figure is from the vendor's datasheet or architecture whitepaper, dense (NVIDIA
prints tensor-core figures "with sparsity": those are halved here), per GPU:
- fp32: CUDA cores, no tensor cores.
- tf32: tensor cores on float32 data (Ampere and newer). TensorFlow uses them for float32
  matmuls and convolutions unless `enable_tensor_float_32_execution(False)`.
- fp16 / bf16: tensor cores with float32 accumulation, which Keras' mixed precision uses.
  GeForce cards accumulate in float32 at half their float16-accumulate rate; the figures
  below are the float32-accumulate ones (NVIDIA's whitepapers list both).
None: the card has no tensor cores for that type (V100 and T4: no tf32, no bf16).

Sources: Tesla V100 datasheet (SXM2, PCIe, V100S); Tesla T4 datasheet; A10, A100 (40/80 GB,
SXM and PCIe), L4, L40S, H100 (SXM, PCIe, NVL), H200 (SXM, NVL) datasheets; HGX B200
datasheet (its per-GPU column); GA102 (RTX 30), Ada (RTX 40) and RTX Blackwell
(RTX 50) whitepapers' appendix tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class GpuPeak:
    """TFLOP/s of one GPU, dense."""

    card: str
    fp32: float
    tf32: float | None
    fp16: float
    bf16: float | None
    source: str

    def tflops(self, compute_dtype: str, tensor_float_32: bool = True) -> float | None:
        """At Keras' compute dtype; float32 runs on tf32 tensor cores where TensorFlow
        has them enabled (its default)."""
        if compute_dtype == "float16":
            return self.fp16
        if compute_dtype == "bfloat16":
            return self.bf16
        return (self.tf32 or self.fp32) if tensor_float_32 else self.fp32


def _geforce(card: str, fp32: float, source: str) -> GpuPeak:
    """GA10x, AD10x and GB20x GeForce: tf32 at the fp32 rate, fp16/bf16 with float32
    accumulation at twice it (the whitepapers' tables)."""
    return GpuPeak(card, fp32, fp32, 2 * fp32, 2 * fp32, source)


AMPERE_WP = "NVIDIA Ampere GA102 whitepaper"
ADA_WP = "NVIDIA Ada GPU architecture whitepaper"
BLACKWELL_WP = "NVIDIA RTX Blackwell GPU architecture whitepaper"

# (pattern searched in the device name, peak). The first match wins: specific names first.
GPU_PEAKS: tuple[tuple[str, GpuPeak], ...] = (
    (r"V100S", GpuPeak("V100S PCIe", 16.4, None, 130, None, "Tesla V100S datasheet")),
    (r"V100.*PCIE", GpuPeak("V100 PCIe", 14, None, 112, None, "Tesla V100 datasheet")),
    (r"V100", GpuPeak("V100 SXM2", 15.7, None, 125, None, "Tesla V100 datasheet")),
    (r"\bT4\b", GpuPeak("T4", 8.1, None, 65, None, "Tesla T4 datasheet")),
    (r"\bA100\b", GpuPeak("A100", 19.5, 156, 312, 312, "NVIDIA A100 datasheet")),
    (r"\bA10\b", GpuPeak("A10", 31.2, 62.5, 125, 125, "NVIDIA A10 datasheet")),
    (r"\bL40S\b", GpuPeak("L40S", 91.6, 183, 362.05, 362.05, "NVIDIA L40S datasheet")),
    (r"\bL4\b", GpuPeak("L4", 30.3, 60, 121, 121, "NVIDIA L4 datasheet")),
    (r"H100.*PCIe", GpuPeak("H100 PCIe", 51, 378, 756.5, 756.5, "NVIDIA H100 datasheet")),
    (r"H100 NVL", GpuPeak("H100 NVL", 60, 417.5, 835.5, 835.5, "NVIDIA H100 datasheet")),
    (r"\bH100\b", GpuPeak("H100 SXM", 67, 494.5, 989.5, 989.5, "NVIDIA H100 datasheet")),
    (r"H200 NVL", GpuPeak("H200 NVL", 60, 417.5, 835.5, 835.5, "NVIDIA H200 datasheet")),
    (r"\bH200\b", GpuPeak("H200 SXM", 67, 494.5, 989.5, 989.5, "NVIDIA H200 datasheet")),
    (r"\bB200\b", GpuPeak("B200", 75, 1100, 2250, 2250, "NVIDIA HGX B200 datasheet")),
    (r"RTX 3090 Ti", _geforce("RTX 3090 Ti", 40.0, AMPERE_WP)),
    (r"RTX 3090", _geforce("RTX 3090", 35.6, AMPERE_WP)),
    (r"RTX 3080 Ti", _geforce("RTX 3080 Ti", 34.1, AMPERE_WP)),
    (r"RTX 3080", _geforce("RTX 3080", 29.8, AMPERE_WP)),
    (r"RTX 3070 Ti", _geforce("RTX 3070 Ti", 21.7, AMPERE_WP)),
    (r"RTX 3070", _geforce("RTX 3070", 20.3, AMPERE_WP)),
    (r"RTX 3060 Ti", _geforce("RTX 3060 Ti", 16.2, AMPERE_WP)),
    (r"RTX 3060", _geforce("RTX 3060", 12.7, AMPERE_WP)),
    (r"RTX 4090", _geforce("RTX 4090", 82.6, ADA_WP)),
    (r"RTX 4080 SUPER", _geforce("RTX 4080 SUPER", 52.2, ADA_WP)),
    (r"RTX 4080", _geforce("RTX 4080", 48.7, ADA_WP)),
    (r"RTX 4070 Ti SUPER", _geforce("RTX 4070 Ti SUPER", 44.1, ADA_WP)),
    (r"RTX 4070 Ti", _geforce("RTX 4070 Ti", 40.1, ADA_WP)),
    (r"RTX 4070 SUPER", _geforce("RTX 4070 SUPER", 35.5, ADA_WP)),
    (r"RTX 4070", _geforce("RTX 4070", 29.1, ADA_WP)),
    (r"RTX 4060 Ti", _geforce("RTX 4060 Ti", 22.1, ADA_WP)),
    (r"RTX 4060", _geforce("RTX 4060", 15.1, ADA_WP)),
    (r"RTX 5090", _geforce("RTX 5090", 104.8, BLACKWELL_WP)),
    (r"RTX 5080", _geforce("RTX 5080", 56.3, BLACKWELL_WP)),
    (r"RTX 5070 Ti", _geforce("RTX 5070 Ti", 43.9, BLACKWELL_WP)),
    (r"RTX 5070", _geforce("RTX 5070", 30.9, BLACKWELL_WP)),
)


def gpu_peak(device_name: str) -> GpuPeak | None:
    """The card TensorFlow names `device_name` (`NVIDIA A100-SXM4-80GB`, `Tesla T4`,
    `NVIDIA GeForce RTX 4090`); None for a card not in the table, and for laptop parts,
    whose clocks (and so peaks) differ from the desktop card of the same number."""
    if "laptop" in device_name.lower():
        return None
    return next(
        (peak for pattern, peak in GPU_PEAKS if re.search(pattern, device_name, re.IGNORECASE)),
        None,
    )


TENSOR_COLUMNS = {"float16": "fp16 tensor", "bfloat16": "bf16 tensor"}


def _column(peak: GpuPeak, compute_dtype: str, tensor_float_32: bool) -> str:
    if compute_dtype in TENSOR_COLUMNS:
        return TENSOR_COLUMNS[compute_dtype]
    return "tf32 tensor" if peak.tf32 and tensor_float_32 else "fp32"


def gpus_peak(
    device_name: str, compute_dtype: str, replicas: int, tensor_float_32: bool = True
) -> tuple[float | None, str]:
    """FLOP/s of `replicas` GPUs named `device_name` at Keras' compute dtype, and the line
    saying where the figure comes from (or why there is none)."""
    peak = gpu_peak(device_name)
    if peak is None:
        return None, (
            f"no MFU: {device_name} is not in the table of GPU peaks (compiler/gpu_peaks.py): "
            "give its peak with --peak-tflops"
        )
    tflops = peak.tflops(compute_dtype, tensor_float_32)
    if tflops is None:
        return None, (
            f"no MFU: the {peak.card} has no {compute_dtype} tensor cores: give the rate it "
            "reaches with --peak-tflops"
        )
    column = _column(peak, compute_dtype, tensor_float_32)
    total = tflops * 1e12 * replicas
    return total, (
        f"peak {total / 1e12:,.1f} TFLOP/s = {replicas} x {peak.card} at {tflops:g} TFLOP/s "
        f"{column}, dense ({peak.source})"
    )
