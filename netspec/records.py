"""What a run directory records: the run (`run.json`) and its epochs (`metrics.json`).

These models are the one definition of the layout: `netspec train` writes them, and
`runs`, `runs --plot`, `evaluate`, `export` and `predict` read them back, never the spec's
text, so every command sees the settings the run used (command-line overrides included).
They live in the front end because `netspec runs` reads runs without TensorFlow.

Each file is written whole or not at all (a temporary file, then a rename) and carries a
`schema_version`; a file without one was written before these records and is refused by
name.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from netspec.ir import TrainConfig

SCHEMA_VERSION = 1
RUN_FILE = "run.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
SPEC_FILE = "spec.ns"
MODEL_FILE = "model.keras"
EVALUATION_FILE = "evaluation.json"
# What the run directories written before these records held instead of run.json.
BEFORE_RECORDS = "classes.json"


class RecordError(Exception):
    """A record that cannot be read, said in one sentence naming its file."""


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Preprocessing(Record):
    """What a later prediction must do to an image file, as the run's evaluation did:
    decode it as RGB (then grayscale for one channel); with `center_crop`, take the centre
    box of the input's aspect ratio covering that fraction of the shorter side, else the
    whole image; resize it bilinearly to `input`; then per channel
    `(pixel / 255 - mean) / std`."""

    input: tuple[int, int, int]  # height, width, channels
    center_crop: float | None
    mean: tuple[float, ...]
    std: tuple[float, ...]


class HeldOut(Record):
    """The test images the run chose by its seed (a folder without a test split), relative
    to the dataset's folder, with their class indices."""

    files: tuple[str, ...]
    labels: tuple[int, ...]


class Environment(Record):
    netspec: str
    tensorflow: str
    keras: str
    python: str
    cpu: str
    gpus: tuple[str, ...]


class RunRecord(Record):
    """The run as it was set up: written when training starts (again on `--resume`)."""

    schema_version: int = SCHEMA_VERSION
    network: str
    spec: str  # the spec file it was trained from; its text is copied to spec.ns
    input: tuple[int, int, int]
    params: int  # of the inference model, by the static analysis
    macs: int
    # The `train:` section with every command-line override: seed, dataset, epochs, ...
    config: TrainConfig
    data_dir: str | None  # where the dataset was looked for first
    classes: tuple[str, ...]  # class names, in label order
    held_out: HeldOut | None
    train_images: int
    test_images: int
    preprocessing: Preprocessing
    steps_per_epoch: int
    replicas: int
    strategy: str
    precision: str  # the Keras dtype policy
    jit: bool
    steps_per_execution: int
    bn_batches: int
    environment: Environment
    # The values of the spec's `search:` names this run trained (`netspec sweep --train`).
    configuration: dict[str, int | float] | None = None


class EpochRecord(Record):
    epoch: int  # from 1
    loss: float
    accuracy: float
    lr: float
    seconds: float  # training, not counting the batch-norm pass and the evaluation
    images_per_second: float
    bn_seconds: float
    val_loss: float
    val_accuracy: float
    val_images: int
    mfu: float | None


class Metrics(Record):
    """Every completed epoch, rewritten after each; the counts show a resumed run kept its
    optimizer state."""

    schema_version: int = SCHEMA_VERSION
    optimizer_steps: int
    images_seen: int
    history: tuple[EpochRecord, ...]


class Evaluation(Record):
    """`netspec evaluate`'s scores of the trained model on the run's test split."""

    schema_version: int = SCHEMA_VERSION
    images: int
    loss: float
    top1: float
    top5: float
    classes: tuple[str, ...]
    per_class_accuracy: tuple[float, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: true class, columns: predicted class


Model = TypeVar("Model", bound=Record)


def write_atomically(path: Path, text: str) -> None:
    """The whole new file or the old one: a kill or a full disk mid-write leaves the old."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_record(path: Path, record: Record) -> None:
    write_atomically(path, record.model_dump_json(indent=2))


def write_metrics(run_dir: Path, metrics: Metrics) -> None:
    """metrics.json, and history.csv beside it for spreadsheets."""
    write_record(run_dir / METRICS_FILE, metrics)
    columns = list(EpochRecord.model_fields)
    rows = [",".join(columns)]
    for epoch in metrics.history:
        values = epoch.model_dump()
        rows.append(",".join("" if values[c] is None else repr(values[c]) for c in columns))
    write_atomically(run_dir / HISTORY_FILE, "\n".join(rows) + "\n")


def read_record(path: Path, model: type[Model]) -> Model:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"{path}: no such file{_before_records(path.parent)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path}: not JSON ({exc})") from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version is None:
        raise RecordError(
            f"{path}: written by a netspec from before run records (no schema_version); "
            "retrain the run to read it"
        )
    if version != SCHEMA_VERSION:
        raise RecordError(
            f"{path}: schema_version {version}, but this netspec reads {SCHEMA_VERSION}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise RecordError(
            f"{path}: not a valid {model.__name__}: {where}: {first['msg']}"
        ) from None


def _before_records(directory: Path) -> str:
    if (directory / BEFORE_RECORDS).is_file():
        return (
            f" ({directory} holds {BEFORE_RECORDS}: it was written by a netspec from before run "
            "records; retrain the run to read it)"
        )
    return ""


def read_run_record(run_dir: Path) -> RunRecord:
    return read_record(run_dir / RUN_FILE, RunRecord)


def read_metrics(run_dir: Path) -> Metrics | None:
    """None before the first epoch completes."""
    if not (run_dir / METRICS_FILE).exists():
        return None
    return read_record(run_dir / METRICS_FILE, Metrics)
