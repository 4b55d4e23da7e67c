"""predict, evaluate and export refuse bad input with one line naming the path (exit 1),
or a usage error (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from compiler.cli import app

pytestmark = pytest.mark.keras


def invoke(*args: str | Path) -> tuple[int, str]:
    done = CliRunner().invoke(app, [str(arg) for arg in args])
    return done.exit_code, " ".join(done.output.split())


def test_a_folder_without_a_model_is_named(tmp_path: Path) -> None:
    for command in ("evaluate", "export"):
        code, output = invoke(command, tmp_path)
        assert code == 1, output
        assert f"{tmp_path / 'model.keras'}: no such model" in output


def test_a_file_that_is_not_a_keras_model_is_named(tmp_path: Path) -> None:
    fake = tmp_path / "m.keras"
    fake.write_text("not a zip")
    code, output = invoke("export", fake, "--format", "tflite")
    assert code == 1, output
    assert f"{fake}: not a Keras model" in output


def test_predict_names_a_missing_image(tmp_path: Path) -> None:
    code, output = invoke("predict", tmp_path, tmp_path / "none.png")
    assert code == 1, output
    assert f"{tmp_path / 'none.png'}: no such file or folder" in output


def test_predict_without_a_run_record_says_what_to_give(tmp_path: Path) -> None:
    import keras

    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    model.save(tmp_path / "m.keras")
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("L", (4, 4)).save(image)
    code, output = invoke("predict", tmp_path / "m.keras", image)
    assert code == 1, output
    assert f"{tmp_path / 'run.json'}: no such file" in output
    assert "give the run directory" in output


def test_quantizing_anything_but_tflite_is_a_usage_error(tmp_path: Path) -> None:
    code, output = invoke("export", tmp_path, "--format", "keras", "--quantize", "int8")
    assert code == 2, output
    assert "only a tflite export is quantized" in output


def test_export_without_output_writes_beside_the_model_never_over_it(tmp_path: Path) -> None:
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.save(tmp_path / "m.keras")
    before = (tmp_path / "m.keras").read_bytes()
    for export_format, written in (("keras", "m-export.keras"), ("tflite", "m.tflite")):
        code, output = invoke("export", tmp_path / "m.keras", "--format", export_format)
        assert code == 0, output
        assert (tmp_path / written).stat().st_size > 0
    assert (tmp_path / "m.keras").read_bytes() == before


def test_a_run_directory_from_before_run_records_is_named(tmp_path: Path) -> None:
    """An old run (classes.json and a metrics.json without schema_version, no run.json)
    exports as it is, and what needs its settings says why it cannot."""
    import keras

    model = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(3)]
    )
    model.save(tmp_path / "model.keras")
    (tmp_path / "spec.ns").write_text("network old\n")
    (tmp_path / "classes.json").write_text('{"classes": ["a", "b", "c"], "preprocessing": {}}')
    (tmp_path / "metrics.json").write_text('{"epochs_completed": 1, "history": []}')
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("L", (4, 4)).save(image)
    for command in (("evaluate", tmp_path), ("predict", tmp_path, image)):
        code, output = invoke(*command)
        assert code == 1, output
        assert f"{tmp_path / 'run.json'}: no such file" in output
        assert "written by a netspec from before run records" in output
    code, output = invoke("export", tmp_path, "--format", "keras", "-o", tmp_path / "out.keras")
    assert code == 0, output
