"""Precision, XLA and batch handling chosen by rule for described machines: no GPU needed."""

from __future__ import annotations

import numpy as np
import pytest

from compiler.datasets import ArrayDataset
from compiler.devices import Gpu, Machine
from compiler.gpu_peaks import GPU_PEAKS, GpuPeak, gpu_peak, gpus_peak
from compiler.pipeline import make_datasets, normalization
from compiler.precision import choose_compute
from compiler.runner import Throughput
from netspec.ir import TrainConfig

H100 = Gpu("NVIDIA H100 80GB HBM3", (9, 0))
A100 = Gpu("NVIDIA A100-SXM4-80GB", (8, 0))
T4 = Gpu("Tesla T4", (7, 5))
P100 = Gpu("Tesla P100-PCIE-16GB", (6, 0))
ZEN5 = frozenset({"avx512f", "avx512_bf16"})
# A network that computes much per activation byte (googlenet: 265) and one that does not.
DENSE, THIN = 265.0, 31.0

MACHINES = {
    "one H100": Machine((H100,)),
    "two A100s": Machine((A100, A100), "mirrored"),
    "one T4": Machine((T4,)),
    "one P100": Machine((P100,)),
    "a CPU": Machine((), cpu_flags=ZEN5),
}


@pytest.mark.parametrize(
    ("machine", "policy", "jit"),
    [
        ("one H100", "mixed_float16", True),
        ("two A100s", "mixed_float16", False),
        ("one T4", "mixed_float16", True),
        ("one P100", "float32", True),
        ("a CPU", "mixed_bfloat16", False),
    ],
)
def test_defaults_by_device(machine: str, policy: str, jit: bool) -> None:
    compute = choose_compute(MACHINES[machine], DENSE)
    assert (compute.policy, compute.jit) == (policy, jit)


def test_the_first_lines_say_what_was_chosen_and_why() -> None:
    h100 = choose_compute(MACHINES["one H100"], DENSE).reasons
    assert h100[0].startswith("precision mixed_float16: tensor cores (compute capability 9.0")
    assert h100[1].startswith("XLA on: one GPU")
    mirrored = choose_compute(MACHINES["two A100s"], DENSE).reasons
    assert mirrored[1].startswith("XLA off: mirrored: XLA with mixed precision fails in merge")
    p100 = choose_compute(MACHINES["one P100"], DENSE).reasons
    assert "no tensor cores below compute capability 7.0 (this GPU: 6.0)" in p100[0]


def test_multi_worker_keeps_xla_off() -> None:
    compute = choose_compute(Machine((H100,), "multi-worker"), DENSE)
    assert (compute.policy, compute.jit) == ("mixed_float16", False)


def test_a_mixed_machine_follows_its_oldest_card() -> None:
    assert choose_compute(Machine((H100, P100), "mirrored"), DENSE).policy == "float32"


def test_cpus_keep_float32_for_thin_networks() -> None:
    assert choose_compute(MACHINES["a CPU"], THIN).policy == "float32"
    assert choose_compute(Machine(()), DENSE).policy == "float32"  # no native bfloat16


@pytest.mark.parametrize("machine", list(MACHINES))
def test_the_command_line_overrides_every_default(machine: str) -> None:
    described = MACHINES[machine]
    forced = choose_compute(described, DENSE, mixed=False, jit=False)
    assert (forced.policy, forced.jit) == ("float32", False)
    assert forced.reasons == (
        "precision float32: asked (--no-mixed-precision)",
        "XLA off: asked (--no-jit)",
    )
    mixed = choose_compute(described, DENSE, mixed=True, jit=True)
    assert mixed.policy == ("mixed_float16" if described.gpus else "mixed_bfloat16")
    assert mixed.jit
    assert choose_compute(described, DENSE, bfloat16=True).policy == "mixed_bfloat16"


def test_bfloat16_is_only_asked_for_and_warned_about_without_its_tensor_cores() -> None:
    assert "emulated" in choose_compute(MACHINES["one T4"], DENSE, bfloat16=True).reasons[0]
    assert "emulated" not in choose_compute(MACHINES["one H100"], DENSE, bfloat16=True).reasons[0]


def test_training_batches_have_one_shape_so_xla_never_recompiles() -> None:
    # 100 images in batches of 32: the short last batch of 4 is dropped.
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (100, 8, 8, 1), dtype=np.uint8)
    labels = rng.integers(0, 10, 100).astype(np.int64)
    data = ArrayDataset(images, labels, images[:10], labels[:10], tuple("0123456789"))
    config = TrainConfig.model_validate({"dataset": {"name": "synthetic"}, "batch": 32})
    train, _ = make_datasets(data, config, 32, normalization(data, config))
    assert train.element_spec[0].shape[0] == 32
    assert [int(x.shape[0]) for x, _ in train] == [32, 32, 32]


@pytest.mark.parametrize(
    ("gpu", "dtype", "tflops", "column"),
    [
        (H100, "float16", 989.5, "fp16 tensor"),
        (A100, "float32", 156, "tf32 tensor"),  # TensorFlow's default for float32
        (T4, "float16", 65, "fp16 tensor"),
        (T4, "float32", 8.1, "fp32"),  # Turing: no tf32
    ],
)
def test_mfu_peaks_come_from_the_table_per_precision(
    gpu: Gpu, dtype: str, tflops: float, column: str
) -> None:
    flops, line = gpus_peak(gpu.name, dtype, replicas=2)
    assert flops == pytest.approx(2 * tflops * 1e12)
    assert f"at {tflops:g} TFLOP/s {column}, dense" in line


def test_a_gpu_without_a_figure_says_so() -> None:
    assert gpus_peak(P100.name, "float32", 1) == (
        None,
        "no MFU: Tesla P100-PCIE-16GB is not in the table of GPU peaks "
        "(compiler/gpu_peaks.py): give its peak with --peak-tflops",
    )
    flops, line = gpus_peak(T4.name, "bfloat16", 1)
    assert flops is None and "no bfloat16 tensor cores" in line


def test_steps_per_execution_follow_the_gpu_peak_as_on_the_cpu() -> None:
    # googlenet's training step (about 9.4 GFLOP per image) at batch 128: 12 ms at a T4's
    # float16 peak, 0.8 ms at an H100's: more steps per call on the faster card.
    flops_per_image = 9.4e9
    rates = [gpus_peak(gpu.name, "float16", 1)[0] for gpu in (T4, H100)]
    steps = [Throughput(flops_per_image, rate, "").steps_per_execution(128) for rate in rates]
    assert steps[0] < steps[1] == 16


@pytest.mark.parametrize(
    ("device_name", "card"),
    [
        ("Tesla V100S-PCIE-32GB", "V100S PCIe"),
        ("Tesla V100-PCIE-16GB", "V100 PCIe"),
        ("Tesla V100-SXM2-32GB", "V100 SXM2"),
        ("NVIDIA A10", "A10"),
        ("NVIDIA A100 80GB PCIe", "A100"),
        ("NVIDIA L4", "L4"),
        ("NVIDIA L40S", "L40S"),
        ("NVIDIA H100 PCIe", "H100 PCIe"),
        ("NVIDIA H100 NVL", "H100 NVL"),
        ("NVIDIA H200", "H200 SXM"),
        ("NVIDIA B200", "B200"),
        ("NVIDIA GeForce RTX 3090 Ti", "RTX 3090 Ti"),
        ("NVIDIA GeForce RTX 4070 SUPER", "RTX 4070 SUPER"),
        ("NVIDIA GeForce RTX 5090", "RTX 5090"),
    ],
)
def test_device_names_find_their_own_card_not_a_namesake(device_name: str, card: str) -> None:
    found = gpu_peak(device_name)
    assert found is not None and found.card == card


def test_laptop_parts_are_not_taken_for_the_desktop_card() -> None:
    assert gpu_peak("NVIDIA GeForce RTX 4090 Laptop GPU") is None


@pytest.mark.parametrize(("pattern", "peak"), GPU_PEAKS)
def test_every_card_is_fastest_on_its_tensor_cores(pattern: str, peak: GpuPeak) -> None:
    # Guards the table against a sparse figure or a swapped column: dense fp16 tensor
    # rates are 2x (GeForce) to 30x (B200) the fp32 rate, tf32 about half the fp16 at most
    # (the L40S datasheet prints tf32 183 beside fp16 362.05, both dense).
    assert 2 * peak.fp32 <= peak.fp16 <= 31 * peak.fp32
    assert peak.bf16 in (None, peak.fp16)
    assert peak.tf32 is None or peak.fp32 <= peak.tf32 <= peak.fp16 / 2 * 1.02
