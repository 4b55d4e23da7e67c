"""The test split of a run's dataset, prepared exactly as the run's evaluation prepared it:
the settings and the held-out images the run recorded, the same loader and tf.data
pipeline, the recorded normalization. The spec is not read again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import tensorflow as tf

from compiler.datasets import StreamedDataset
from compiler.datasets.folder import file_split
from compiler.pipeline import make_datasets
from compiler.session import DataProblem, dataset_override, open_dataset
from compiler.trained import Trained, TrainedError
from netspec.records import RUN_FILE, HeldOut


def test_batches(
    trained: Trained, dataset: str | None, data_dir: Path | None, batch: int
) -> tf.data.Dataset:
    """(images, labels) batches of every test image of the run's dataset, or of `dataset`
    (`data_dir`: where to look first; a file dataset's folder). TrainedError names a
    dataset that cannot be read."""
    record = trained.require_record()
    config = record.config
    looked_in = data_dir or (Path(record.data_dir) if record.data_dir else None)
    held_out = record.held_out
    try:
        if dataset is not None:
            config = config.model_copy(update={"dataset": dataset_override(dataset, data_dir)})
            held_out = None
        elif data_dir is not None and config.dataset.path is not None:
            # The run's folder or shards, moved.
            moved = config.dataset.model_copy(update={"path": str(data_dir)})
            config = config.model_copy(update={"dataset": moved})
        data = open_dataset(config, looked_in, record.input, len(record.classes))
    except DataProblem as problem:
        raise TrainedError(
            f"{trained.run_dir / RUN_FILE}: dataset {config.dataset.name}: {problem}"
        ) from None
    root = config.dataset.path
    if held_out is not None and root is not None and isinstance(data, StreamedDataset):
        data = _with_test_images(data, Path(root), held_out)
    norm = trained.preprocessing().normalization
    return make_datasets(data, config, batch, norm)[1]


def _with_test_images(data: StreamedDataset, root: Path, held_out: HeldOut) -> StreamedDataset:
    """The images the run held out, even if the folder has gained images since."""
    images = [
        (root / file, label) for file, label in zip(held_out.files, held_out.labels, strict=True)
    ]
    return dataclasses.replace(data, test=file_split(images))
