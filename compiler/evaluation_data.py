"""The test split of a run's dataset, prepared exactly as the run's evaluation prepared it:
the same loader, the same tf.data pipeline, the normalization the run recorded."""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from compiler.pipeline import make_datasets
from compiler.session import RunOptions, effective_config, load_data
from compiler.trained import Trained
from netspec import api


def test_batches(
    trained: Trained, dataset: str | None, data_dir: Path | None, batch: int
) -> tf.data.Dataset:
    """(images, labels) batches of every test image; TrainingError names a missing dataset
    at the spec's dataset line."""
    spec_text = trained.spec_text
    assert trained.run_dir is not None  # spec_text found the run directory
    network = api.compile_text(spec_text, str(trained.run_dir / "spec.ns"))
    options = RunOptions(dataset=dataset, data_dir=data_dir)
    config = effective_config(network, options)
    data = load_data(network, config, options)
    norm = trained.require_preprocessing().normalization
    return make_datasets(data, config, batch, norm)[1]
