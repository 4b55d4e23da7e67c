"""The input pipeline against the model it feeds: does tf.data keep up?

For each spec, with its own `train:` recipe (batch, crop, flip, resize):
- load: reading and decoding the dataset into memory, once per run;
- pipeline alone: shuffle, augment, normalize and batch, in images per second;
- model alone: training steps on one batch held in memory;
- model fed by the pipeline: the same steps on batches the pipeline makes, both sharing
  the machine's cores as they do in `netspec train`. Fed / alone near 1 means the model
  never waits for data.

Fashion-MNIST is the real data (/usr/share/datasets/fashion-mnist); CIFAR-100 cannot be
downloaded here, so cifar_trimmed's pipeline runs on arrays of CIFAR's shape and count.
googlenet streams a generated folder of ImageNet-sized JPEGs (500x375) through its recipe
(decode the crop window, inception crop to 224x224, flip, photometric distortion); "per
core" reruns the pipeline on one thread.

    python -m benchmarks.pipeline [--specs fashion_mnist cifar_trimmed] [--steps 20]
    python -m benchmarks.pipeline --specs googlenet --steps 3 --repeat 1 --batches 20
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from rich.table import Table

from benchmarks.common import ROOT, median, write_results

CIFAR_TRAIN_IMAGES = 50_000
IMAGENET_LIKE = (375, 500)  # a typical ILSVRC-2012 photo, height x width
STREAMED_IMAGES = 512
STREAMED_CLASSES = 16


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--specs", nargs="+", default=["fashion_mnist", "cifar_trimmed"])
    parser.add_argument("--steps", type=int, default=20, help="model steps per timed run")
    parser.add_argument("--batches", type=int, default=200, help="pipeline batches timed")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--name", default="pipeline", help="results/<name>.json")
    args = parser.parse_args()
    table = Table(
        "spec",
        "batch",
        "load (s)",
        "pipeline img/s",
        "per core",
        "model img/s",
        "headroom",
        "model fed by pipeline img/s",
        "fed / alone",
        title="Input pipeline against the model (medians)",
    )
    rows = []
    for spec in args.specs:
        row = measure(spec, args.steps, args.batches, args.repeat)
        rows.append(row)
        table.add_row(
            spec,
            str(row["batch"]),
            f"{row['load_seconds']:.2f}",
            f"{row['pipeline_images_per_second']:,.0f}",
            f"{row['pipeline_images_per_second_per_core']:,.0f}",
            f"{row['model_images_per_second']:,.0f}",
            f"{row['headroom']:.1f}x",
            f"{row['fed_images_per_second']:,.0f}",
            f"{row['fed_ratio']:.3f}",
        )
    write_results(args.name, rows, table)


def load(network: Any) -> tuple[Any, float]:
    from compiler.datasets import load_dataset
    from compiler.datasets.synthetic import synthetic

    start = time.perf_counter()
    if network.train.dataset.name in ("folder", "tfrecord"):
        import atexit
        import shutil
        import tempfile
        from pathlib import Path

        from benchmarks.jpeg_folder import write_jpeg_folder

        folder = Path(tempfile.mkdtemp(prefix="netspec-jpegs-"))
        atexit.register(shutil.rmtree, folder, True)
        # Labels do not change the speed; fewer classes than images keeps none empty.
        write_jpeg_folder(folder, STREAMED_IMAGES, IMAGENET_LIKE, classes=STREAMED_CLASSES)
        start = time.perf_counter()  # listing, not writing, is the load
        shape = (network.input.height, network.input.width, network.input.channels)
        data = load_dataset("folder", path=str(folder), image_size=shape)
    elif network.train.dataset.name.startswith("cifar"):
        shape = (network.input.height, network.input.width, network.input.channels)
        data = synthetic(shape, train=CIFAR_TRAIN_IMAGES, test=1000, classes=network.classes)
    else:
        data = load_dataset(network.train.dataset.name)
    return data, time.perf_counter() - start


def pipeline_rate(train: Any, batch: int, batches: int, repeat: int) -> float:
    rates = []
    iterator = iter(train)
    for _ in range(5):  # let autotuning settle
        next(iterator)
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(batches):
            next(iterator)
        rates.append(batches * batch / (time.perf_counter() - start))
    return median(rates)


def measure(spec: str, steps: int, batches: int, repeat: int) -> dict[str, object]:
    import tensorflow as tf

    from benchmarks.train import Setting, stepper
    from compiler.build import build_models
    from compiler.pipeline import make_datasets
    from compiler.precision import dtype_policy, policy_name
    from netspec.analysis.analyse import analyse
    from netspec.api import compile_file

    network = compile_file(ROOT / "specs" / f"{spec}.ns")
    config = network.train
    data, load_seconds = load(network)
    train, _ = make_datasets(data, config, config.batch)
    train = train.repeat()

    one_thread = tf.data.Options()
    one_thread.threading.private_threadpool_size = 1
    one_thread.threading.max_intra_op_parallelism = 1
    pipeline = pipeline_rate(train, config.batch, batches, repeat)
    per_core = pipeline_rate(train.with_options(one_thread), config.batch, batches, repeat)

    # The model as `netspec train` runs it by default on this machine.
    strategy = tf.distribute.get_strategy()
    totals = analyse(network).totals
    assert totals is not None
    policy = policy_name(None, totals)
    with dtype_policy(policy):
        models = build_models(network)
    setting = Setting(config.batch, steps, False, policy != "float32", steps_per_execution=1)
    run = stepper(models, network.classes, setting, strategy, policy)
    cached = iter(train.take(1).cache().repeat())
    fed = iter(train)
    rates: dict[str, list[float]] = {"alone": [], "fed": []}
    for source in (cached, fed):  # trace and warm up
        run(source, 2)
    for _ in range(repeat):
        for name, source in (("alone", cached), ("fed", fed)):
            start = time.perf_counter()
            run(source, steps)
            rates[name].append(steps * config.batch / (time.perf_counter() - start))
    alone, with_pipeline = median(rates["alone"]), median(rates["fed"])
    return {
        "spec": spec,
        "batch": config.batch,
        "policy": policy,
        "load_seconds": load_seconds,
        "pipeline_images_per_second": pipeline,
        "pipeline_images_per_second_per_core": per_core,
        "model_images_per_second": alone,
        "headroom": pipeline / alone,
        "fed_images_per_second": with_pipeline,
        "fed_ratio": with_pipeline / alone,
    }


if __name__ == "__main__":
    main()
