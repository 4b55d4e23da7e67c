"""predict, evaluate and export on a run trained in this process: one epoch of the real
Fashion-MNIST, in float32 so that exported models can be compared to 1e-5."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from compiler.cli import app
from netspec.records import EVALUATION_FILE, Evaluation, read_record, read_run_record
from tests.compiler.test_training import metrics, needs_fashion

pytestmark = [pytest.mark.keras, pytest.mark.slow, needs_fashion]

IMAGES = 100


def invoke(*args: str | Path) -> str:
    done = CliRunner().invoke(app, [str(arg) for arg in args])
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("after") / "run"
    invoke(
        "train", "specs/fashion_mnist.ns", "--epochs", "1", "--out", run_dir, "--no-mixed-precision"
    )
    return run_dir


@pytest.fixture(scope="module")
def test_images() -> tuple[np.ndarray, np.ndarray]:
    from compiler.datasets import load_dataset

    data = load_dataset("fashion_mnist", image_size=(28, 28, 1), classes=10, seed=0)
    return data.test_images, data.test_labels


def test_evaluate_reproduces_the_runs_own_test_accuracy(run: Path, tmp_path: Path) -> None:
    plot = tmp_path / "confusion.png"
    printed = invoke("evaluate", run, "--plot", plot)
    # A typed record: read back as the layout netspec.records defines, or an error.
    evaluation = read_record(run / EVALUATION_FILE, Evaluation)
    recorded = metrics(run).history[-1]
    # The same images, preprocessing and batch-norm statistics as the run's last evaluation.
    assert evaluation.images == recorded.val_images == 10_000
    assert evaluation.top1 == pytest.approx(recorded.val_accuracy, abs=1e-9)
    assert evaluation.loss == pytest.approx(recorded.val_loss, rel=1e-4)
    assert evaluation.top1 <= evaluation.top5 <= 1
    confusion = np.asarray(evaluation.confusion)
    assert confusion.shape == (10, 10) and confusion.sum() == 10_000
    assert confusion.trace() / 10_000 == pytest.approx(evaluation.top1)
    assert len(evaluation.per_class_accuracy) == 10
    assert "Ankle boot" in printed and f"top-1 {evaluation.top1:.4f}" in printed
    with Image.open(plot) as drawn:
        assert drawn.format == "PNG" and min(drawn.size) > 300


def test_predict_names_the_class_of_test_images_written_as_pngs(
    run: Path, tmp_path: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = test_images
    classes = read_run_record(run).classes
    folder = tmp_path / "pngs"
    folder.mkdir()
    for index in range(IMAGES):
        Image.fromarray(images[index, :, :, 0]).save(folder / f"{index:03d}.png")
    answers = json.loads(invoke("predict", run, folder, "--top", "3", "--json"))
    assert len(answers) == IMAGES
    right = sum(
        answer["top"][0]["class"] == classes[labels[int(Path(answer["image"]).stem)]]
        for answer in answers
    )
    assert right >= 85, right
    assert all(len(answer["top"]) == 3 for answer in answers)
    assert sum(p["probability"] for p in answers[0]["top"]) <= 1 + 1e-6
    table = invoke("predict", run, folder / "000.png", "--top", "2")
    assert "000.png" in table and answers[0]["top"][0]["class"] in table


def test_predict_names_a_file_that_is_not_an_image(run: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    done = CliRunner().invoke(app, ["predict", str(run), str(bad)])
    assert done.exit_code == 1
    assert f"{bad}: not an image" in " ".join(done.output.split())


def keras_outputs(run: Path, batch: np.ndarray) -> np.ndarray:
    import keras

    model = keras.saving.load_model(run / "model.keras", compile=False)
    return np.asarray(model(batch, training=False))


def tflite_outputs(path: Path, batch: np.ndarray) -> np.ndarray:
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    (input_detail,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(input_detail["index"], batch.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(input_detail["index"], batch)
    interpreter.invoke()
    (output_detail,) = interpreter.get_output_details()
    return np.asarray(interpreter.get_tensor(output_detail["index"]))


def normalized_test_batch(run: Path, images: np.ndarray) -> np.ndarray:
    from compiler.trained import load_trained

    preprocessing = load_trained(run).preprocessing()
    return np.asarray(preprocessing.normalization.apply(images))


def test_savedmodel_and_tflite_exports_compute_what_keras_computes(
    run: Path, tmp_path: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    import tensorflow as tf

    batch = normalized_test_batch(run, test_images[0][:32])
    expected = keras_outputs(run, batch)
    saved = tmp_path / "saved"
    invoke("export", run, "--format", "savedmodel", "-o", saved)
    serving = tf.saved_model.load(str(saved)).signatures["serving_default"]
    (served,) = serving(tf.constant(batch)).values()
    np.testing.assert_allclose(served.numpy(), expected, rtol=1e-5, atol=1e-5)

    invoke("export", run, "--format", "tflite", "-o", tmp_path / "m.tflite")
    np.testing.assert_allclose(
        tflite_outputs(tmp_path / "m.tflite", batch), expected, rtol=1e-5, atol=1e-5
    )
    invoke(
        "export", run, "--format", "tflite", "--quantize", "float16", "-o", tmp_path / "h.tflite"
    )
    np.testing.assert_allclose(
        tflite_outputs(tmp_path / "h.tflite", batch), expected, rtol=1e-2, atol=1e-2
    )
    invoke("export", run, "--format", "keras", "-o", tmp_path / "copy.keras")
    import keras

    copy = keras.saving.load_model(tmp_path / "copy.keras", compile=False)
    np.testing.assert_allclose(np.asarray(copy(batch)), expected, rtol=1e-6)


def test_int8_tflite_loses_at_most_two_points_on_1000_test_images(
    run: Path, tmp_path: Path, test_images: tuple[np.ndarray, np.ndarray]
) -> None:
    images, labels = test_images[0][:1000], test_images[1][:1000]
    batch = normalized_test_batch(run, images)
    output = tmp_path / "q.tflite"
    invoke("export", run, "--format", "tflite", "--quantize", "int8", "-o", output)
    keras_accuracy = float(np.mean(keras_outputs(run, batch).argmax(-1) == labels))
    int8_accuracy = float(np.mean(tflite_outputs(output, batch).argmax(-1) == labels))
    assert int8_accuracy >= keras_accuracy - 0.02, (keras_accuracy, int8_accuracy)
    assert output.stat().st_size < (run / "model.keras").stat().st_size / 2
