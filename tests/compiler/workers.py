"""Multi-worker runs on loopback: `netspec train` processes that find each other by TF_CONFIG."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Sequence

TIMEOUT = 600


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def start_workers(arguments: Sequence[str], count: int = 2) -> list[subprocess.Popen[str]]:
    """`python -m netspec train ARGUMENTS --strategy multi-worker` once per worker."""
    workers = [f"127.0.0.1:{port}" for port in free_ports(count)]
    command = [sys.executable, "-m", "netspec", "train", *arguments, "--strategy", "multi-worker"]
    processes = []
    for index in range(count):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(
            subprocess.Popen(
                command,
                env={**os.environ, "TF_CONFIG": json.dumps(tf_config)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    return processes


def finish(processes: list[subprocess.Popen[str]]) -> list[str]:
    """Every worker's output, once all have exited 0."""
    outputs = [process.communicate(timeout=TIMEOUT)[0] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
    return outputs
