"""Training throughput: netspec's generated model against hand-written Keras.

Both models of a network train with the same step (compiler.loop), optimizer, batch,
strategy and precision on one synthetic batch held in memory, so the figure is the
model's alone (benchmarks/pipeline.py measures the input side). Timed runs alternate
between the two models, each going first in every other round; the table gives medians.

    python -m benchmarks.train [--specs cifar_trimmed googlenet] [--batch 32] [--steps 8]
        [--repeat 5] [--jit] [--mixed-precision] [--steps-per-execution 1]
        [--strategy default|mirrored] [--intra-threads 0] [--inter-threads 0]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from benchmarks.common import ROOT, median, write_results


@dataclass(frozen=True)
class Setting:
    batch: int
    steps: int
    jit: bool
    mixed_precision: bool
    steps_per_execution: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specs", nargs="+", default=["cifar_trimmed", "googlenet"])
    parser.add_argument("--batch", type=int, default=32, help="global batch")
    parser.add_argument("--steps", type=int, default=8, help="optimizer steps per timed run")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per model")
    parser.add_argument("--jit", action="store_true")
    parser.add_argument("--mixed-precision", action="store_true")
    parser.add_argument("--steps-per-execution", type=int, default=1)
    parser.add_argument("--strategy", default="default", choices=["default", "mirrored"])
    parser.add_argument("--intra-threads", type=int, default=0, help="0: TensorFlow's choice")
    parser.add_argument("--inter-threads", type=int, default=0, help="0: TensorFlow's choice")
    parser.add_argument("--name", default="train", help="results/<name>.json")
    args = parser.parse_args()

    import tensorflow as tf

    # Must precede anything that initializes TensorFlow's devices.
    tf.config.threading.set_intra_op_parallelism_threads(args.intra_threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.inter_threads)
    from compiler.distribute import choose_strategy

    strategy = choose_strategy(args.strategy)
    setting = Setting(
        args.batch, args.steps, args.jit, args.mixed_precision, args.steps_per_execution
    )
    table = Table(
        "spec",
        "batch",
        "netspec img/s",
        "hand-written img/s",
        "ratio",
        "MFU",
        title=f"Training throughput, median of {args.repeat} runs of {args.steps} steps "
        f"({describe(setting, strategy)})",
    )
    rows = []
    for spec in args.specs:
        row = measure(spec, setting, strategy, args.repeat)
        rows.append(row)
        table.add_row(
            spec,
            str(args.batch),
            f"{row['netspec_images_per_second']:.1f}",
            f"{row['handwritten_images_per_second']:.1f}",
            f"{row['ratio']:.3f}",
            f"{row['mfu']:.1%}" if row["mfu"] is not None else "-",
        )
    write_results(args.name, rows, table)


def describe(setting: Setting, strategy: Any) -> str:
    from compiler.devices import this_machine
    from compiler.precision import mixed_policy

    parts = [
        f"{strategy.num_replicas_in_sync} replica(s)",
        mixed_policy(this_machine()) if setting.mixed_precision else "float32",
        "XLA" if setting.jit else "no XLA",
        f"{setting.steps_per_execution} step(s) per execution",
    ]
    return ", ".join(parts)


def measure(spec: str, setting: Setting, strategy: Any, repeat: int) -> dict[str, object]:

    from benchmarks.handwritten import HANDWRITTEN, googlenet_inference
    from compiler.build import BuiltModels, build_models
    from compiler.precision import dtype_policy, policy_name
    from compiler.runner import Throughput
    from compiler.session import RunOptions
    from netspec.analysis.analyse import analyse
    from netspec.api import compile_file

    network = compile_file(ROOT / "specs" / f"{spec}.ns")
    totals = analyse(network).totals
    assert totals is not None
    policy = policy_name(setting.mixed_precision, totals)
    with strategy.scope(), dtype_policy(policy):
        generated = build_models(network)
        written = HANDWRITTEN[spec](network.classes)
        inference = googlenet_inference(written) if generated.aux_weights else written
        handwritten = BuiltModels(written, inference, generated.aux_weights)
    runners = {
        "netspec": stepper(generated, network.classes, setting, strategy, policy),
        "handwritten": stepper(handwritten, network.classes, setting, strategy, policy),
    }
    batches = synthetic_batches(network, setting.batch)
    iterator = iter(strategy.experimental_distribute_dataset(batches))
    seconds = timed_alternately(
        runners, iterator, setting.steps, repeat, warm_up=setting.steps_per_execution
    )
    rates = {name: setting.steps * setting.batch / median(s) for name, s in seconds.items()}
    # The same figure `netspec train` prints: static FLOPs against the peak at this precision.
    throughput = Throughput.of(totals, RunOptions(), strategy, policy)
    return {
        "spec": spec,
        "batch": setting.batch,
        "steps": setting.steps,
        "policy": policy,
        "jit": setting.jit,
        "steps_per_execution": setting.steps_per_execution,
        "replicas": strategy.num_replicas_in_sync,
        "netspec_images_per_second": rates["netspec"],
        "handwritten_images_per_second": rates["handwritten"],
        "ratio": rates["netspec"] / rates["handwritten"],
        "mfu": throughput.mfu(rates["netspec"]),
        "seconds": seconds,
    }


def synthetic_batches(network: Any, batch: int) -> Any:
    """One random batch of the network's input size, repeated: no input pipeline cost."""
    import tensorflow as tf

    source = network.input
    images = tf.random.uniform((batch, source.height, source.width, source.channels))
    labels = tf.random.uniform((batch,), maxval=network.classes, dtype=tf.int32)
    return tf.data.Dataset.from_tensors((images, labels)).repeat()


def timed_alternately(
    runners: dict[str, Any], iterator: Any, steps: int, repeat: int, warm_up: int = 1
) -> dict[str, list[float]]:
    """Seconds of `repeat` timed runs of `steps` per runner, after two untimed runs of
    `warm_up` steps each (tracing, compiling). The runners alternate, each going first in
    every other round, so that none always follows another's run."""
    for run in runners.values():
        run(iterator, warm_up)
        run(iterator, warm_up)
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for round_ in range(repeat):
        order = list(runners.items())
        for name, run in order if round_ % 2 == 0 else reversed(order):
            start = time.perf_counter()
            run(iterator, steps)
            seconds[name].append(time.perf_counter() - start)
    return seconds


def stepper(models: Any, classes: int, setting: Setting, strategy: Any, policy: str) -> Any:
    """run(iterator, steps): `steps` optimizer steps, blocking until they are done."""
    import keras
    import tensorflow as tf

    from compiler.loop import make_steps
    from compiler.precision import wrap_optimizer

    with strategy.scope():
        optimizer = wrap_optimizer(keras.optimizers.SGD(0.01, momentum=0.9), policy)
        optimizer.build(models.training.trainable_variables)
    steps = make_steps(
        strategy, models, optimizer, classes, 0.0, setting.batch, jit_compile=setting.jit
    )

    def run(iterator: Any, count: int) -> None:
        done = 0
        while done < count:
            chunk = min(setting.steps_per_execution, count - done)
            loss, _ = steps.train(iterator, tf.constant(chunk))
            float(loss)  # wait for the device
            done += chunk

    return run


if __name__ == "__main__":
    main()
