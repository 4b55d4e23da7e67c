"""benchmarks/gpu.py's batch sizing and table, and its answer on a machine without a GPU."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rich.console import Console

from benchmarks.gpu import COLUMNS, MAX_BATCH, Row, batch_that_fills, table
from tests.helpers import REPO

GIB = 2**30


def test_the_batch_fills_half_the_card_with_activations() -> None:
    # 10 MB of float32 activations per image on a 16 GiB card: 8 GiB / 10 MB = 858 -> 512;
    # 16-bit types keep half as many bytes, so twice the batch fits.
    assert batch_that_fills(40 * 2**20, "float32", 16 * GIB) == 128
    assert batch_that_fills(40 * 2**20, "mixed_float16", 16 * GIB) == 256
    assert batch_that_fills(1_000, "float32", 80 * GIB) == MAX_BATCH
    assert batch_that_fills(64 * GIB, "float32", 16 * GIB) == 1


def test_the_table_sets_netspec_beside_hand_written_keras() -> None:
    rows = [
        Row("googlenet", 256, "mixed_float16", True, 2000.0, 2500.0, 0.31, GIB, 2 * GIB),
        Row("googlenet", 512, "float32", False, None, None, None, None, None, "out of memory"),
    ]
    console = Console(width=400, record=True)
    console.print(table(rows, "t"))
    text = console.export_text()
    for column in COLUMNS:
        assert column in text
    measured, failed = text.splitlines()[4:6]
    for cell in ("2,000", "2,500", "0.800", "31.0%", "1.00 GiB", "2.00 GiB", "on"):
        assert cell in measured
    assert "out of memory" in failed and "off" in failed


@pytest.mark.slow
def test_without_a_gpu_it_says_so_and_exits_0() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.gpu"], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("no GPU: TensorFlow sees none")
