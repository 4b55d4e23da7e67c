"""Training on one GPU: netspec's generated model against hand-written Keras, in float32,
float16 and bfloat16, with and without XLA; images per second, MFU and peak memory.

Each network trains on one synthetic batch held on the device (no input pipeline), at the
largest power-of-two batch whose float32 activations (the static analysis' figure, halved
for 16-bit types) fill about half the card's memory, capped at 512. Timed runs of the two
models alternate (benchmarks/train.py). MFU is `netspec train`'s figure: static FLOPs
against the card's datasheet peak at that precision (compiler/gpu_peaks.py). A setting
that does not fit the card is reported, not fatal. A time budget (default 7.5 minutes)
keeps the whole run under 8: settings it leaves out say so.

    python -m benchmarks.gpu [--specs cifar_trimmed googlenet] [--steps 10] [--repeat 3]
        [--budget 450]

On a machine without a GPU it says so and exits 0.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import subprocess
import time
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from benchmarks.common import ROOT, median, write_results

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
COLUMNS = (
    "spec",
    "batch",
    "precision",
    "XLA",
    "netspec img/s",
    "hand-written img/s",
    "ratio",
    "MFU",
    "peak memory netspec",
    "peak memory hand-written",
)
MAX_BATCH = 512
MEMORY_FRACTION = 0.5  # of the card, for the activations; the rest: weights, workspaces
FALLBACK_MEMORY = 16 * 2**30  # where nvidia-smi cannot say


@dataclass(frozen=True)
class Row:
    spec: str
    batch: int
    policy: str
    jit: bool
    netspec: float | None  # images per second; None: not measured
    handwritten: float | None
    mfu: float | None
    netspec_peak_bytes: int | None
    handwritten_peak_bytes: int | None
    note: str = ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specs", nargs="+", default=["cifar_trimmed", "googlenet"])
    parser.add_argument("--steps", type=int, default=10, help="optimizer steps per timed run")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per model")
    parser.add_argument("--budget", type=float, default=450, help="seconds for all settings")
    parser.add_argument("--name", default="gpu", help="results/<name>.json")
    args = parser.parse_args()

    from compiler.quiet_start import import_tensorflow

    import_tensorflow(verbose=False)
    import tensorflow as tf

    console = Console()
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        console.print(
            "no GPU: TensorFlow sees none on this machine, so there is nothing to measure "
            "(benchmarks/gpu.py measures GPUs only; benchmarks/train.py measures CPUs)"
        )
        return
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)  # peak memory = what was used
    name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    memory = card_memory()
    deadline = time.monotonic() + args.budget
    rows = []
    for spec in args.specs:
        for policy in POLICIES:
            for jit in (False, True):
                if time.monotonic() > deadline:
                    rows.append(skipped(spec, policy, jit, "left out: over the time budget"))
                    continue
                rows.append(measure(spec, policy, jit, memory, args.steps, args.repeat))
    title = (
        f"Training on one {name} ({memory / 2**30:.0f} GiB), synthetic data, median of "
        f"{args.repeat} runs of {args.steps} steps"
    )
    write_results(args.name, [row.__dict__ for row in rows], table(rows, title))


def card_memory() -> int:
    """Bytes of the first GPU, from nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return FALLBACK_MEMORY
    done = subprocess.run(
        ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
        capture_output=True,
        text=True,
    )
    try:
        return int(done.stdout.split()[0]) * 2**20
    except (IndexError, ValueError):
        return FALLBACK_MEMORY


def batch_that_fills(activation_bytes: int, policy: str, memory: int) -> int:
    """The largest power of two whose kept activations fit the card's share, <= MAX_BATCH."""
    per_image = activation_bytes / (1 if policy == "float32" else 2)
    batch = 1
    while batch * 2 <= MAX_BATCH and batch * 2 * per_image <= memory * MEMORY_FRACTION:
        batch *= 2
    return batch


def skipped(spec: str, policy: str, jit: bool, note: str, batch: int = 0) -> Row:
    return Row(spec, batch, policy, jit, None, None, None, None, None, note)


def measure(spec: str, policy: str, jit: bool, memory: int, steps: int, repeat: int) -> Row:
    import keras
    import tensorflow as tf

    from benchmarks.handwritten import HANDWRITTEN, googlenet_inference
    from benchmarks.train import Setting, stepper, synthetic_batches, timed_alternately
    from compiler.build import BuiltModels, build_models
    from compiler.precision import dtype_policy
    from compiler.runner import Throughput
    from compiler.session import RunOptions
    from netspec.analysis.analyse import analyse
    from netspec.api import compile_file

    network = compile_file(ROOT / "specs" / f"{spec}.ns")
    totals = analyse(network).totals
    assert totals is not None and totals.training_activation_bytes
    batch = batch_that_fills(totals.training_activation_bytes, policy, memory)
    strategy = tf.distribute.get_strategy()
    setting = Setting(batch, steps, jit, policy != "float32", steps_per_execution=1)
    peaks: dict[str, int] = {}
    runners = {}
    try:
        for which in ("netspec", "handwritten"):
            tf.config.experimental.reset_memory_stats("GPU:0")
            with dtype_policy(policy):
                generated = build_models(network)
                if which == "handwritten":
                    written = HANDWRITTEN[spec](network.classes)
                    inference = googlenet_inference(written) if generated.aux_weights else written
                    generated = BuiltModels(written, inference, generated.aux_weights)
            run = stepper(generated, network.classes, setting, strategy, policy)
            iterator = iter(synthetic_batches(network, batch))
            run(iterator, 2)  # trace, compile, allocate
            peaks[which] = tf.config.experimental.get_memory_info("GPU:0")["peak"]
            runners[which] = run
        seconds = timed_alternately(runners, iterator, steps, repeat, warm_up=1)
    except tf.errors.ResourceExhaustedError:
        return skipped(spec, policy, jit, "out of memory", batch)
    except (
        tf.errors.InvalidArgumentError,
        tf.errors.UnimplementedError,
        tf.errors.InternalError,
    ) as exc:
        # bfloat16 ops without a GPU kernel, XLA clusters that do not compile
        return skipped(spec, policy, jit, f"fails: {exc.message.splitlines()[0][:60]}", batch)
    finally:
        runners.clear()
        keras.backend.clear_session()
        gc.collect()
    rates = {which: steps * batch / median(s) for which, s in seconds.items()}
    throughput = Throughput.of(totals, RunOptions(), strategy, policy)
    return Row(
        spec,
        batch,
        policy,
        jit,
        rates["netspec"],
        rates["handwritten"],
        throughput.mfu(rates["netspec"]),
        peaks["netspec"],
        peaks["handwritten"],
    )


def table(rows: list[Row], title: str) -> Table:
    """One line per setting; a setting not measured keeps its reason in the last column."""
    result = Table(*COLUMNS, "note", title=title)
    for row in rows:
        result.add_row(
            row.spec,
            str(row.batch or "-"),
            row.policy,
            "on" if row.jit else "off",
            _number(row.netspec, "{:,.0f}"),
            _number(row.handwritten, "{:,.0f}"),
            _number(row.netspec / row.handwritten if row.netspec and row.handwritten else None),
            _number(row.mfu, "{:.1%}"),
            _gib(row.netspec_peak_bytes),
            _gib(row.handwritten_peak_bytes),
            row.note,
        )
    return result


def _number(value: float | None, form: str = "{:.3f}") -> str:
    return "-" if value is None else form.format(value)


def _gib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**30:.2f} GiB"


if __name__ == "__main__":
    main()
