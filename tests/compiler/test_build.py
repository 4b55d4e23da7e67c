"""The Keras backend: custom layers, residual merges, heads, and the saved model."""

from __future__ import annotations

import subprocess
import sys
import typing
from pathlib import Path

import keras
import numpy as np
import pytest

from compiler.build import build_models, save_inference_model
from compiler.layers import LocalResponseNormalization
from compiler.precision import dtype_policy
from netspec.api import compile_file, compile_text
from netspec.ir import Layer, keras_name
from tests.helpers import EVERY_KIND, SMALL_HEADER

pytestmark = pytest.mark.keras


def caffe_lrn(x: np.ndarray, size: int, alpha: float, beta: float, bias: float) -> np.ndarray:
    channels = x.shape[-1]
    out = np.empty_like(x)
    for c in range(channels):
        low, high = max(0, c - (size - 1) // 2), min(channels, c + (size - 1) // 2 + 1)
        window = (x[..., low:high] ** 2).sum(axis=-1)
        out[..., c] = x[..., c] / (bias + alpha / size * window) ** beta
    return out


def test_lrn_follows_caffes_formula() -> None:
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 7)).astype("float32") * 4
    layer = LocalResponseNormalization(size=5, alpha=1e-2, beta=0.75, bias=2.0)
    np.testing.assert_allclose(layer(x), caffe_lrn(x, 5, 1e-2, 0.75, 2.0), rtol=1e-5)


def test_every_layer_kind_runs_under_the_bfloat16_policy() -> None:
    # `netspec train` defaults to bfloat16 on AMX CPUs: LRN has no bfloat16 kernel.
    network = compile_text(SMALL_HEADER + EVERY_KIND)
    assert {type(layer) for layer in network.layers} == set(
        typing.get_args(typing.get_args(Layer)[0])
    )
    with dtype_policy("mixed_bfloat16"):
        model = build_models(network).training
    x = np.random.default_rng(2).normal(size=(2, 8, 8, 4)).astype("float32")
    for logits in model(x, training=True):
        assert logits.dtype == "bfloat16" and np.isfinite(np.asarray(logits, "float32")).all()
    lrn = next(layer for layer in model.layers if isinstance(layer, LocalResponseNormalization))
    assert lrn.dtype_policy.name == "mixed_bfloat16"


def test_residual_merge_adds_the_scaled_projection_then_relu() -> None:
    network = compile_text(
        SMALL_HEADER
        + (
            "conv 3x3 4\n"
            "branch: conv 1x1 2\n"
            "branch: conv 1x1 3 -> conv 3x3 3\n"
            "merge residual scale=0.17\n"
            "gap\n"
            "dense classes\n"
        )
    )
    model = build_models(network).inference
    residual = keras_name(network.layers[-3].name)
    x = np.random.default_rng(1).normal(size=(1, 8, 8, 4)).astype("float32")
    probe = keras.Model(
        model.input,
        [
            model.get_layer("conv1").output,
            model.get_layer(f"{residual}_concat").output,
            model.get_layer(residual).output,
        ],
    )
    shortcut, mixed, merged = (np.asarray(t) for t in probe(x))
    kernel, bias = (np.asarray(w) for w in model.get_layer(f"{residual}_project").weights)
    projected = mixed @ kernel[0, 0] + bias
    np.testing.assert_allclose(merged, np.maximum(shortcut + 0.17 * projected, 0), atol=1e-5)
    assert kernel.shape == (1, 1, 5, 4)


def test_linear_residual_skips_the_activation() -> None:
    network = compile_text(
        SMALL_HEADER
        + ("conv 1x1 4\nbranch: conv 1x1 2\nmerge residual scale=1 linear\ngap\ndense classes\n")
    )
    model = build_models(network).inference
    merge = model.get_layer(keras_name(network.layers[-3].name))
    assert isinstance(merge, keras.layers.Add)


def test_aux_heads_are_training_outputs_only() -> None:
    network = compile_text(
        SMALL_HEADER
        + (
            "conv 3x3 8\naux side weight=0.5:\n  gap\n  dense classes\nconv 3x3 8\ngap\n"
            "dense classes\n"
        )
    )
    models = build_models(network)
    assert len(models.training.outputs) == 2
    assert models.aux_weights == (0.5,)
    names = {layer.name for layer in models.inference.layers}
    assert not any(name.startswith("side") for name in names)
    assert models.training.get_layer("side_dense1").activation is keras.activations.linear


def load_in_a_fresh_process(
    model: keras.Model, path: Path, x: np.ndarray, first: str = ""
) -> subprocess.CompletedProcess[str]:
    """Load `path` in a new Python that runs `first` before `keras.saving.load_model`, and
    check that it predicts what `model` does."""
    np.save(path.parent / "x.npy", x)
    np.save(path.parent / "expected.npy", np.asarray(model(x, training=False)))
    script = (
        f"import sys, numpy as np, keras\n{first}\n"
        "m = keras.saving.load_model(sys.argv[1])\n"
        "x = np.load(sys.argv[2]); expected = np.load(sys.argv[3])\n"
        "np.testing.assert_allclose(np.asarray(m(x, training=False)), expected, atol=1e-4)\n"
        "ours = sorted(k for k in sys.modules if k.startswith(('netspec', 'compiler')))\n"
        "print('loaded', m.count_params(), ours)\n"
    )
    return subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(path),
            str(path.parent / "x.npy"),
            str(path.parent / "expected.npy"),
        ],
        capture_output=True,
        text=True,
        cwd=path.parent,
    )


@pytest.mark.slow
def test_saved_model_loads_without_netspec_and_predicts_the_same(tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    model = save_inference_model(compile_file(Path("specs/cifar_trimmed.ns")), path)
    x = np.random.default_rng(2).uniform(size=(2, 32, 32, 3)).astype("float32")
    done = load_in_a_fresh_process(model, path, x)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"loaded {model.count_params()} []" in done.stdout


@pytest.mark.slow
def test_saved_model_with_netspecs_own_layers_loads_after_importing_them(tmp_path: Path) -> None:
    # The README's way: Keras' loader imports no module a .keras file names, for safety.
    path = tmp_path / "model.keras"
    network = compile_text(
        SMALL_HEADER + "conv 3x3 8\nlrn\nmaxpool to 4x1\nflatten\ndense classes\n"
    )
    model = save_inference_model(network, path)
    assert {"LocalResponseNormalization", "AdaptivePooling2D"} <= {
        type(layer).__name__ for layer in model.layers
    }
    x = np.random.default_rng(2).uniform(size=(2, 8, 8, 4)).astype("float32")
    done = load_in_a_fresh_process(model, path, x, "import compiler.layers")
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"loaded {model.count_params()} ['compiler', 'compiler.layers'" in done.stdout
    keras.backend.clear_session()


def netspec_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netspec", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_build_command_writes_the_model(tmp_path: Path) -> None:
    done = netspec_cli("build", "specs/cifar_trimmed.ns", "-o", str(tmp_path / "m.keras"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "m.keras").stat().st_size > 1_000_000
    assert "6,410,916 parameters" in done.stdout
    # TensorFlow's C++ start-up lines stay off the terminal without --verbose.
    assert "absl::InitializeLog" not in done.stderr and "oneDNN" not in done.stderr, done.stderr


def test_build_command_refuses_a_spec_with_errors(tmp_path: Path) -> None:
    spec = tmp_path / "bad.ns"
    spec.write_text(SMALL_HEADER + "conv 3x3 8\nmaxpool 9x9 valid\ngap\ndense classes\n")
    done = netspec_cli("build", str(spec), "-o", str(tmp_path / "m.keras"))
    assert done.returncode == 1, done.stdout
    assert f"{spec}:5:1: error[window-too-large]" in done.stdout
    assert not (tmp_path / "m.keras").exists()


@pytest.mark.slow
def test_build_prints_the_specs_warnings_before_it_builds(tmp_path: Path) -> None:
    spec = tmp_path / "small.ns"
    # 8x8 -> 4x4 -> 2x2 -> 1x1 before the head: a collapse warning, still buildable; the
    # 64 -> 4 channel step a bottleneck, a note on this plain network
    spec.write_text(
        SMALL_HEADER
        + "conv 3x3 64\nconv 1x1 4\nconv 3x3/2 8\nmaxpool 2x2\nconv 3x3/2 8\ngap\n"
        + "dense classes\n"
    )
    done = netspec_cli("build", str(spec), "-o", str(tmp_path / "m.keras"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{spec}:8:1: warning[collapse]" in done.stdout
    # The notes in one line; `check` prints each.
    assert "note[bottleneck]" not in done.stdout
    assert f"{spec}: 1 design note(s); `netspec check {spec}` shows them" in done.stdout
    assert (tmp_path / "m.keras").exists()
