"""`netspec import keras`: keras.applications networks written as specs build back to the
same parameters and weight shapes; a .keras file is read without running its code; what
the language cannot write is listed, layer by layer."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import keras
import numpy as np
import pytest
from typer.testing import CliRunner

from compiler.build import build_models
from compiler.cli import app
from compiler.keras_import import ImportFailed, application, import_spec
from netspec import api
from netspec.syntax.printer import print_spec
from tests.compiler.test_zoo import share_random_weights

pytestmark = [pytest.mark.keras]

ZOO = Path("specs/zoo")

# Each application and its hand-written spec in specs/zoo, where there is one.
APPLICATIONS = {
    "VGG16": "vgg16",
    "ResNet50": "resnet50",
    "MobileNet": "mobilenet",
    "InceptionV3": None,
    "ResNet50V2": "resnet50v2",
    "InceptionResNetV2": None,
    "Xception": "xception",
    "MobileNetV2": "mobilenet_v2",
    "DenseNet121": "densenet121",
    "EfficientNetB0": "efficientnet_b0",
    "MobileNetV3Small": "mobilenet_v3_small",
    "ConvNeXtTiny": "convnext_tiny",
}


def shapes(model: keras.Model) -> Counter[tuple[int, ...]]:
    return Counter(tuple(weight.shape) for weight in model.weights)


@pytest.mark.slow
@pytest.mark.parametrize("name", APPLICATIONS)
def test_an_imported_application_builds_the_same_weights(name: str) -> None:
    model = application(name)
    text = print_spec(import_spec(model.get_config()))
    built = build_models(api.compile_text(text, f"{name}.ns")).inference
    assert built.count_params() == model.count_params()
    assert shapes(built) == shapes(model)
    keras.backend.clear_session()
    zoo = APPLICATIONS[name]
    if zoo is not None:
        written = (ZOO / f"{zoo}.ns").read_text()
        assert len(text.splitlines()) <= 2 * len(written.splitlines())


@pytest.mark.slow
def test_the_imported_convnext_tiny_computes_what_the_application_does() -> None:
    """Its preprocessing included (the default): the same normalized input, bit for bit,
    and with the same random weights the same logits."""
    reference = keras.applications.ConvNeXtTiny(weights=None, classifier_activation=None)
    text = print_spec(import_spec(reference.get_config()))
    ours = build_models(api.compile_text(text, "convnext_tiny.ns")).inference
    try:
        images = np.random.default_rng(1).uniform(0, 255, (2, 224, 224, 3)).astype("float32")
        prestem = reference.get_layer("convnext_tiny_prestem_normalization")
        (normalize,) = [x for x in ours.layers if isinstance(x, keras.layers.Normalization)]
        np.testing.assert_array_equal(
            keras.Model(ours.input, normalize.output)(images),
            keras.Model(reference.input, prestem.output)(images),
        )
        share_random_weights(reference, ours)
        np.testing.assert_allclose(
            np.asarray(ours(images)), np.asarray(reference(images)), rtol=1e-4, atol=1e-4
        )
    finally:
        keras.backend.clear_session()


def invoke(*args: str | Path) -> tuple[int, str]:
    done = CliRunner().invoke(app, [str(arg) for arg in args])
    return done.exit_code, done.output


def test_a_keras_file_round_trips_with_batch_norm_folded(tmp_path: Path) -> None:
    image = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False)(image)
    x = keras.layers.BatchNormalization(epsilon=1e-3)(x)
    x = keras.layers.Activation("relu")(x)
    left = keras.layers.Conv2D(4, 1, padding="same", use_bias=False)(x)
    right = keras.layers.MaxPooling2D(3, strides=1, padding="same")(x)
    x = keras.layers.Concatenate()([left, right])
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(image, keras.layers.Dense(10, activation="softmax")(x))
    model.save(tmp_path / "small.keras")

    code, output = invoke("import", "keras", tmp_path / "small.keras", "-o", tmp_path / "s.ns")

    assert code == 0, output
    text = (tmp_path / "s.ns").read_text()
    source = tmp_path / "small.keras"
    assert text.startswith(f"# Imported from {source} by `netspec import keras`.\nnetwork ")
    assert "defaults:\n  conv same nobias\n" in text
    assert "conv 3x3 8 bn relu\n" in text
    assert "branch: maxpool 3x3/1 same" in text
    built = build_models(api.compile_text(text)).inference
    assert built.count_params() == model.count_params()


def test_a_lambda_is_listed_with_every_other_unsupported_layer_and_never_runs(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "ran"
    image = keras.Input((16, 16, 3))
    # Were it deserialized, the Lambda's function would write the marker.
    x = keras.layers.Lambda(
        lambda t, path: (open(path, "w").write("ran"), t)[1],  # noqa: SIM115
        arguments={"path": str(marker)},
    )(image)
    x = keras.layers.UpSampling2D()(x)
    x = keras.layers.Flatten()(x)
    keras.Model(image, keras.layers.Dense(2)(x)).save(tmp_path / "code.keras")
    marker.unlink(missing_ok=True)  # building the model above ran it once

    code, output = invoke("import", "keras", tmp_path / "code.keras", "-o", tmp_path / "c.ns")

    assert code == 1
    assert "lambda (Lambda)" in output
    assert "up_sampling2d (UpSampling2D)" in output
    assert "Traceback" not in output
    assert not marker.exists()
    assert not (tmp_path / "c.ns").exists()


def test_branches_that_do_not_merge_at_one_layer_are_refused() -> None:
    image = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(3, 1, name="a")(image)
    b = keras.layers.Conv2D(3, 1, name="b")(image)
    c = keras.layers.Conv2D(3, 1, name="c")(a)
    d = keras.layers.Add(name="d")([a, b])
    model = keras.Model(image, keras.layers.Add(name="out")([c, d]))

    with pytest.raises(ImportFailed, match="the inputs of out share layers"):
        import_spec(model.get_config())


# keras.applications' ImageNet preprocessing (ConvNeXt's): the mean and the variance of
# the pixels, 0..255.
IMAGENET_MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
IMAGENET_VARIANCE = [(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2]


def constants(line: str, name: str) -> list[float]:
    """The numbers of the option `name` on a printed line."""
    (values,) = [word.partition("=")[2] for word in line.split() if word.startswith(f"{name}=")]
    return [float(value) for value in values.split(",")]


def test_a_normalization_by_constants_imports_with_them_and_computes_the_same(
    tmp_path: Path,
) -> None:
    image = keras.Input((8, 8, 3))
    x = keras.layers.Normalization(mean=IMAGENET_MEAN, variance=IMAGENET_VARIANCE)(image)
    x = keras.layers.Normalization(mean=0.5, variance=4.0)(x)
    x = keras.layers.Normalization()(x)  # adapted: weights, which `netspec build` makes too
    model = keras.Model(image, keras.layers.Dense(2)(keras.layers.Flatten()(x)))
    model.save(tmp_path / "norm.keras")

    code, output = invoke("import", "keras", tmp_path / "norm.keras", "-o", tmp_path / "n.ns")

    assert code == 0, output
    text = (tmp_path / "n.ns").read_text()
    lines = [line for line in text.splitlines() if line.startswith("normalize")]
    assert lines[1:] == ["normalize mean=0.5 variance=4.0", "normalize"]
    # Keras computes in float32: each number is as short as keeps its float32.
    for name, given in (("mean", IMAGENET_MEAN), ("variance", IMAGENET_VARIANCE)):
        printed = constants(lines[0], name)
        assert np.array_equal(np.float32(printed), np.float32(given))
        assert all(len(repr(p)) <= len(repr(g)) for p, g in zip(printed, given, strict=True))
    ours = build_models(api.compile_text(text)).inference
    assert ours.count_params() == model.count_params()
    ours.set_weights(model.get_weights())
    x = np.random.default_rng(0).uniform(0, 255, (2, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(ours(x), model(x))
    keras.backend.clear_session()


def test_a_normalization_that_inverts_is_refused_by_name() -> None:
    image = keras.Input((8, 8, 3))
    x = keras.layers.Normalization(mean=0.5, variance=4.0, invert=True)(image)
    model = keras.Model(image, keras.layers.Dense(2)(keras.layers.Flatten()(x)))

    with pytest.raises(ImportFailed) as failed:
        import_spec(model.get_config())
    assert failed.value.problems == (
        "normalization (Normalization): invert=True (it undoes a normalization)",
    )


def test_an_unknown_name_is_an_error_not_a_traceback() -> None:
    code, output = invoke("import", "keras", "ResNet51", "-o", "unused.ns")
    assert code == 1
    assert "ResNet51 is neither a .keras file nor a keras.applications model" in output


def test_a_sequential_keras_file_imports_as_a_chain(tmp_path: Path) -> None:
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.ZeroPadding2D(((0, 1), (0, 1))),
            keras.layers.DepthwiseConv2D(3, strides=2, depth_multiplier=2),
            keras.layers.ReLU(6.0),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10),
        ]
    )
    model.save(tmp_path / "chain.keras")

    code, output = invoke("import", "keras", tmp_path / "chain.keras", "-o", tmp_path / "c.ns")

    assert code == 0, output
    text = (tmp_path / "c.ns").read_text()
    assert "defaults:\n  conv valid bias\n" in text
    assert "pad 0,1,0,1\ndwconv 3x3/2 nobn relu6 mult=2\n" in text
    built = build_models(api.compile_text(text)).inference
    assert built.count_params() == model.count_params()
    assert shapes(built) == shapes(model)


def test_blocks_alike_but_for_their_widths_become_one_module() -> None:
    def block(x: keras.KerasTensor, width: int) -> keras.KerasTensor:
        left = keras.layers.Conv2D(width, 1, padding="same")(x)
        right = keras.layers.Conv2D(width, 3, padding="same")(x)
        return keras.layers.Concatenate()([left, right])

    image = keras.Input((16, 16, 3))
    x = block(block(block(image, 8), 16), 8)
    model = keras.Model(image, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x)))

    text = print_spec(import_spec(model.get_config()))

    assert (
        "module block(w):\n  branch: conv 1x1 w nobn linear\n  branch: conv 3x3 w nobn linear\n"
    ) in text
    assert text.count("\nblock w=8\n") == 2
    assert text.count("\nblock w=16\n") == 1
    built = build_models(api.compile_text(text)).inference
    assert shapes(built) == shapes(model)


def test_keras_joins_an_import_group_the_front_end_already_has() -> None:
    import typer

    from compiler.cli import mount
    from netspec.cli_help import Command, Group

    front = typer.Typer(cls=Group)
    front.command()(lambda: None)
    importers = typer.Typer(cls=Group, no_args_is_help=True)
    importers.command("caffe", cls=Command)(lambda: None)
    front.add_typer(importers, name="import")

    mount(front)

    assert [group.name for group in front.registered_groups].count("import") == 1
    assert [command.name for command in importers.registered_commands] == ["caffe", "keras"]


def test_a_config_that_is_not_a_model_graph_is_an_error() -> None:
    with pytest.raises(ImportFailed, match="not a model config as Keras writes one"):
        import_spec({"name": "m", "layers": [{"class_name": "Dense", "inbound_nodes": []}]})
