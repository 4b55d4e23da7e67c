"""The run directory's records: read back as written, refused by name when they are from
before the records, and never left half-written by a full disk."""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any

import pytest

from netspec import records
from netspec.records import (
    EpochRecord,
    Metrics,
    RecordError,
    read_metrics,
    write_metrics,
)


def epoch(number: int) -> EpochRecord:
    return EpochRecord(
        epoch=number,
        loss=1.0 / number,
        accuracy=0.5,
        lr=0.1,
        seconds=2.0,
        images_per_second=64.0,
        bn_seconds=0.1,
        val_loss=1.1 / number,
        val_accuracy=0.4 + number / 100,
        val_images=256,
        mfu=None,
    )


def metrics(epochs: int) -> Metrics:
    return Metrics(
        optimizer_steps=10 * epochs,
        images_seen=80 * epochs,
        history=tuple(epoch(n) for n in range(1, epochs + 1)),
    )


def test_metrics_read_back_as_written_with_the_history_as_csv(tmp_path: Path) -> None:
    write_metrics(tmp_path, metrics(2))
    assert read_metrics(tmp_path) == metrics(2)
    header, *rows = (tmp_path / "history.csv").read_text().splitlines()
    assert header.split(",") == list(EpochRecord.model_fields)
    assert [row.split(",")[0] for row in rows] == ["1", "2"]
    assert json.loads((tmp_path / "metrics.json").read_text())["schema_version"] == 1


def test_no_metrics_before_the_first_epoch(tmp_path: Path) -> None:
    assert read_metrics(tmp_path) is None


def test_metrics_from_before_the_records_are_refused_naming_the_file(tmp_path: Path) -> None:
    old = {"epochs_completed": 1, "val_accuracy": 0.8, "history": [{"epoch": 1}]}
    (tmp_path / "metrics.json").write_text(json.dumps(old))
    with pytest.raises(RecordError) as raised:
        read_metrics(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / 'metrics.json'}: ")
    assert "before run records (no schema_version)" in str(raised.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"schema_version": 2}', "schema_version 2, but this netspec reads 1"),
        ('{"schema_version": 1, "history": []}', "not a valid Metrics: optimizer_steps"),
        ("{not json", "not JSON"),
    ],
)
def test_a_record_that_cannot_be_read_is_named(tmp_path: Path, text: str, says: str) -> None:
    (tmp_path / "metrics.json").write_text(text)
    with pytest.raises(RecordError, match=str(tmp_path / "metrics.json")) as raised:
        read_metrics(tmp_path)
    assert says in str(raised.value)


class FullDisk:
    """A file that takes half of what is written, then fails as a full disk does."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, text: str) -> int:
        self.file.write(text[: len(text) // 2])
        self.file.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()


def test_a_full_disk_mid_write_leaves_the_previous_record_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_metrics(tmp_path, metrics(1))
    before = (tmp_path / "metrics.json").read_text()
    written: list[Path] = []

    def full_disk(path: Path, *args: Any, **kwargs: Any) -> FullDisk:
        written.append(Path(path))
        return FullDisk(path)

    monkeypatch.setattr(records, "open", full_disk, raising=False)
    with pytest.raises(OSError) as raised:
        write_metrics(tmp_path, metrics(2))
    assert raised.value.errno == errno.ENOSPC
    monkeypatch.undo()
    # The half-written file existed, and is gone; the previous record reads as before.
    assert written and all(p.name.endswith(".tmp") for p in written)
    assert not any(p.exists() for p in written)
    assert (tmp_path / "metrics.json").read_text() == before
    assert read_metrics(tmp_path) == metrics(1)
