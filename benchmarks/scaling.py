"""Throughput of `netspec train` under each strategy, as whole runs a user makes.

One device, a mirrored strategy over N logical CPU devices, and N multi-worker processes
on 127.0.0.1 train the same spec on synthetic data; the figure is the last epoch's
images per second from the run's metrics (the first epoch pays for tracing). On a CPU the
replicas share the same cores, so this measures the strategies' overhead, not a speed-up.

    python -m benchmarks.scaling [--spec cifar_trimmed] [--replicas 2] [--steps 6]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from rich.table import Table

from benchmarks.common import ROOT, write_results
from netspec.records import read_metrics, read_run_record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", default="cifar_trimmed")
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32, help="global batch")
    parser.add_argument("--steps", type=int, default=6, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    train_args = [
        f"specs/{args.spec}.ns",
        "--dataset", "synthetic",
        "--batch-size", str(args.batch),
        "--steps-per-epoch", str(args.steps),
        "--epochs", str(args.epochs),
    ]  # fmt: skip
    table = Table(
        "strategy",
        "replicas",
        "img/s",
        "vs one device",
        title=f"netspec train {args.spec}, global batch {args.batch}, last of {args.epochs} epochs",
    )
    rows = []
    for strategy in ("default", "mirrored", "multi-worker"):
        with tempfile.TemporaryDirectory() as scratch:
            run_dir = Path(scratch) / "run"
            if strategy == "multi-worker":
                run_workers(train_args, run_dir, args.replicas)
            else:
                env = {**os.environ, "NETSPEC_CPU_REPLICAS": str(args.replicas)}
                command = [*train_args, "--strategy", strategy, "--out", str(run_dir)]
                subprocess.run(netspec(command), cwd=ROOT, env=env, check=True, capture_output=True)
            metrics = read_metrics(run_dir)
            replicas = read_run_record(run_dir).replicas
        assert metrics is not None
        rate = metrics.history[-1].images_per_second
        rows.append({"strategy": strategy, "replicas": replicas, "images_per_second": rate})
    single = rows[0]["images_per_second"]
    for row in rows:
        row["relative"] = row["images_per_second"] / single
        table.add_row(
            str(row["strategy"]),
            str(row["replicas"]),
            f"{row['images_per_second']:.1f}",
            f"{row['relative']:.2f}",
        )
    write_results("scaling", rows, table)


def netspec(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "netspec", "train", *args]


def run_workers(train_args: list[str], run_dir: Path, count: int) -> None:
    ports = []
    for _ in range(count):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    command = netspec([*train_args, "--strategy", "multi-worker", "--out", str(run_dir)])
    workers = [
        subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "TF_CONFIG": json.dumps({"cluster": cluster, "task": task})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for task in ({"type": "worker", "index": index} for index in range(count))
    ]
    if any(worker.wait() for worker in workers):
        raise SystemExit("a worker failed; run it by hand to see why")


if __name__ == "__main__":
    main()
