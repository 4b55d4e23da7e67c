"""Preparing a training session in-process: every mistake is a diagnostic pointing at the
spec, found before the first step, without starting `python -m netspec train`."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from compiler.cli import app
from compiler.runner import run
from compiler.session import CheckedSpec, RunOptions, TrainingError, prepare, steps_per_epoch
from netspec.api import compile_text
from tests.compiler.test_training import needs_fashion
from tests.helpers import flat

pytestmark = pytest.mark.keras

TINY = "network f\ninput 28x28x1\nclasses 10\nconv 3x3 8\ngap\ndense classes\n"
QUIET = Console(quiet=True)


def problem(text: str, tmp_path: Path, **options: object) -> TrainingError:
    spec = CheckedSpec.of(text, str(tmp_path / "spec.ns"))
    settings = RunOptions(out_dir=tmp_path / "run", **options)  # type: ignore[arg-type]
    with pytest.raises(TrainingError) as raised:
        run(spec, settings, QUIET)
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.file == str(tmp_path / "spec.ns")
    return raised.value


DATA_ERRORS = {
    "missing-folder": (
        TINY + 'train:\n  dataset folder "no/such/folder"\n',
        "dataset",
        "does not exist",
    ),
    "wrong-shape": (
        TINY.replace("28x28x1", "32x32x3") + "train:\n  dataset fashion_mnist\n",
        "dataset-shape",
        "28x28x1 but the network takes 32x32x3",
    ),
    "wrong-classes": (
        TINY.replace("classes 10", "classes 100") + "train:\n  dataset fashion_mnist\n",
        "dataset-classes",
        "10 classes but the spec says `classes 100`",
    ),
}


@needs_fashion
@pytest.mark.parametrize("case", DATA_ERRORS)
def test_data_errors_point_at_the_dataset_line(tmp_path: Path, case: str) -> None:
    text, code, message = DATA_ERRORS[case]
    (diagnostic,) = problem(text, tmp_path).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == (code, 8, 3)
    assert message in diagnostic.message


def test_a_missing_cifar_says_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # an empty Keras cache
    text = TINY.replace("28x28x1", "32x32x3") + "train:\n  dataset cifar10\n"
    (diagnostic,) = problem(text, tmp_path, data_dir=tmp_path / "data").diagnostics
    assert (diagnostic.code, diagnostic.line) == ("dataset", 8)
    assert str(tmp_path / "data" / "cifar-10-python.tar.gz") in diagnostic.message
    assert "--data-dir" in diagnostic.message


def test_resume_with_nothing_to_resume_says_so(tmp_path: Path) -> None:
    (diagnostic,) = problem(TINY, tmp_path, resume=True).diagnostics
    assert diagnostic.code == "resume"
    assert "nothing to resume" in diagnostic.message


def test_an_unknown_dataset_override_names_the_choices(tmp_path: Path) -> None:
    (diagnostic,) = problem(TINY, tmp_path, dataset="imagenet").diagnostics
    assert "unknown dataset 'imagenet'" in diagnostic.message
    assert "cifar100" in diagnostic.message and "synthetic" in diagnostic.message


@pytest.mark.parametrize("kind", ["folder", "tfrecord"])
def test_a_file_dataset_without_a_data_dir_says_so(tmp_path: Path, kind: str) -> None:
    (diagnostic,) = problem(TINY, tmp_path, dataset=kind).diagnostics
    assert f"--dataset {kind} reads from --data-dir" in diagnostic.message


def test_a_batch_that_does_not_split_across_replicas() -> None:
    # Checked on its own: splitting the CPU into replicas is possible only before TensorFlow
    # starts its devices, which other in-process tests have done by now.
    network = compile_text(TINY, "spec.ns")
    with pytest.raises(TrainingError) as raised:
        steps_per_epoch(
            network, network.train.model_copy(update={"batch": 7}), RunOptions(), 100, 2
        )
    (diagnostic,) = raised.value.diagnostics
    assert diagnostic.code == "batch"
    assert "7 does not split evenly across 2 replicas" in diagnostic.message


def test_a_batch_larger_than_the_data() -> None:
    network = compile_text(TINY, "spec.ns")
    with pytest.raises(TrainingError) as raised:
        steps_per_epoch(
            network, network.train.model_copy(update={"batch": 64}), RunOptions(), 50, 1
        )
    assert "the batch 64 is larger than the 50 training images" in str(raised.value)


def test_multi_worker_without_tf_config_is_a_strategy_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TF_CONFIG", raising=False)
    (diagnostic,) = problem(TINY, tmp_path, strategy="multi-worker").diagnostics
    assert diagnostic.code == "strategy" and "TF_CONFIG" in diagnostic.message


@pytest.mark.slow
@needs_fashion
def test_a_diverging_run_stops_on_nan(tmp_path: Path) -> None:
    text = TINY + "train:\n  dataset fashion_mnist\n  optimizer sgd lr=1e30 momentum=0.9\n"
    (diagnostic,) = problem(text, tmp_path, steps_per_epoch=12, batch_size=64).diagnostics
    assert diagnostic.code == "nan-loss" and "at epoch 1" in diagnostic.message


def test_a_prepared_session_starts_at_zero_with_the_overridden_settings(tmp_path: Path) -> None:
    text = TINY + "train:\n  dataset synthetic\n  batch 16\n"
    options = RunOptions(out_dir=tmp_path / "run", seed=7, epochs=3)
    session = prepare(CheckedSpec.of(text, "spec.ns"), options, QUIET)
    assert (session.position.epoch, session.position.step, session.position.images_seen) == (
        0,
        0,
        0,
    )
    assert session.steps_per_epoch > 0 and session.global_batch == 16
    # What the run uses, and what its record will say: the spec's settings, overridden.
    assert (session.config.seed, session.config.epochs, session.config.batch) == (7, 3, 16)


def test_the_train_command_prints_the_diagnostic_at_its_line_without_a_traceback(
    tmp_path: Path,
) -> None:
    spec = tmp_path / "spec.ns"
    spec.write_text(DATA_ERRORS["missing-folder"][0])
    done = CliRunner().invoke(app, ["train", str(spec), "--out", str(tmp_path / "run")])
    assert done.exit_code == 1, done.output
    assert f"{spec}:8:3: error[dataset]" in " ".join(done.output.split())
    assert done.exception is None or isinstance(done.exception, SystemExit)


@pytest.mark.parametrize("value", ["0", "10s", "m", "-5"])
def test_a_bad_checkpoint_interval_is_a_usage_error(value: str) -> None:
    done = CliRunner().invoke(app, ["train", "specs/fashion_mnist.ns", "--checkpoint-every", value])
    assert done.exit_code == 2
    # The option's own verdict, not any usage error that names it (a misspelt option would).
    message = f"Invalid value for --checkpoint-every: '{value}' is neither a number of steps"
    assert message in flat(done.output)


def test_a_resumed_run_goes_on_with_the_settings_it_recorded(tmp_path: Path) -> None:
    text = TINY + "train:\n  dataset synthetic\n  batch 16\n"
    spec = CheckedSpec.of(text, "spec.ns")
    first = RunOptions(out_dir=tmp_path / "run", seed=7, epochs=1, steps_per_epoch=1, bn_batches=0)
    run(spec, first, QUIET)
    # Without --seed again: the run's seed 7, not the spec's 0; --epochs given again counts.
    session = prepare(spec, RunOptions(out_dir=tmp_path / "run", resume=True, epochs=2), QUIET)
    assert (session.config.seed, session.config.epochs) == (7, 2)
    assert (session.position.epoch, len(session.history)) == (1, 1)
