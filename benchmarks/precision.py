"""float32 against bfloat16 (`--mixed-precision`) training the same network on this CPU: the
figures behind the precision default (compiler/precision.py).

Each network is built once per policy and trained on one synthetic batch held in memory;
timed runs alternate between the two, each going first in every other round, and the table
gives medians beside the network's static cost: training FLOPs per image, and per byte of
the activations a step keeps (its arithmetic intensity, which the default is keyed to).

    python -m benchmarks.precision [--specs fashion_mnist cifar_trimmed googlenet]
        [--batch 64] [--steps 8] [--repeat 5] [--name precision]
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from benchmarks.common import ROOT, median, write_results
from benchmarks.train import Setting, stepper, synthetic_batches, timed_alternately

POLICIES = ("float32", "mixed_bfloat16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specs", nargs="+", default=["fashion_mnist", "cifar_trimmed"])
    parser.add_argument("--batch", type=int, default=64, help="global batch")
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per timed run")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per policy")
    parser.add_argument("--name", default="precision", help="results/<name>.json")
    args = parser.parse_args()

    table = Table(
        "spec",
        "batch",
        "training GFLOP / image",
        "FLOP / activation byte",
        "float32 img/s",
        "bfloat16 img/s",
        "bfloat16 speed-up",
        title=f"float32 against bfloat16, median of {args.repeat} runs of {args.steps} steps",
    )
    rows = []
    for spec in args.specs:
        row = measure(spec, args.batch, args.steps, args.repeat)
        rows.append(row)
        table.add_row(
            spec,
            str(args.batch),
            f"{row['gflop_per_image']:,.2f}",
            f"{row['flops_per_byte']:,.0f}",
            f"{row['float32_images_per_second']:.1f}",
            f"{row['mixed_bfloat16_images_per_second']:.1f}",
            f"{row['speedup']:.2f}x",
        )
    write_results(args.name, rows, table)


def measure(spec: str, batch: int, steps: int, repeat: int) -> dict[str, Any]:
    from compiler.build import build_models
    from compiler.distribute import choose_strategy
    from compiler.hardware import arithmetic_intensity, training_flops_per_image
    from compiler.precision import dtype_policy
    from netspec.analysis.analyse import analyse
    from netspec.api import compile_file

    network = compile_file(ROOT / "specs" / f"{spec}.ns")
    totals = analyse(network).totals
    assert totals is not None
    strategy = choose_strategy("default")
    runners = {}
    for policy in POLICIES:
        setting = Setting(batch, steps, False, policy != "float32", 1)
        with strategy.scope(), dtype_policy(policy):
            models = build_models(network)
        runners[policy] = stepper(models, network.classes, setting, strategy, policy)
    seconds = timed_alternately(runners, iter(synthetic_batches(network, batch)), steps, repeat)
    rates = {policy: steps * batch / median(s) for policy, s in seconds.items()}
    return {
        "spec": spec,
        "batch": batch,
        "steps": steps,
        "gflop_per_image": training_flops_per_image(totals) / 1e9,
        "flops_per_byte": arithmetic_intensity(totals),
        "float32_images_per_second": rates["float32"],
        "mixed_bfloat16_images_per_second": rates["mixed_bfloat16"],
        "speedup": rates["mixed_bfloat16"] / rates["float32"],
        "seconds": seconds,
    }


if __name__ == "__main__":
    main()
