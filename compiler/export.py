"""`netspec export`: the inference model as .keras, as a SavedModel with a serving
signature (TF Serving), or as TFLite converted from that SavedModel (Keras 3's direct
conversion fails for some models, keras-team/keras#19108)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

# Appended to the model's stem when no -o is given; never the model's own name.
DEFAULT_SUFFIXES: dict[str, str] = {
    "keras": "-export.keras",
    "savedmodel": "-savedmodel",
    "tflite": ".tflite",
}
# int8 calibration: TensorFlow's guide suggests a few hundred samples.
CALIBRATION_BATCHES = 8


def export_model(
    model: keras.Model,
    export_format: str,
    output: Path,
    quantize: str | None = None,
    calibration: Callable[[], Iterator[np.ndarray]] | None = None,
) -> Path:
    """Write `model` to `output` as compiler.cli's ExportFormat says, quantized (TFLite
    only) as its Quantization says; `calibration` yields input batches for int8."""
    if export_format == "keras":
        model.save(output)
    elif export_format == "savedmodel":
        model.export(str(output), format="tf_saved_model", verbose=False)
    else:
        with tempfile.TemporaryDirectory() as saved:
            model.export(saved, format="tf_saved_model", verbose=False)
            output.write_bytes(_tflite(saved, quantize, calibration))
    return output


def _tflite(
    saved_model: str,
    quantize: str | None,
    calibration: Callable[[], Iterator[np.ndarray]] | None,
) -> bytes:
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model)
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        if calibration is None:
            raise ValueError("int8 quantization needs calibration images")
        batches = calibration

        def representative() -> Iterator[list[np.ndarray]]:
            for batch in batches():
                for image in batch:
                    yield [image[np.newaxis].astype(np.float32)]

        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return bytes(converter.convert())
