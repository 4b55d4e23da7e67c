"""The zoo specs against the networks they write, built here with weights=None (no download).

Each keras.applications network is built beside its spec and both are dropped before the
next pair, so at most two large models live at a time. RegNet, which Keras 3 dropped, is
tf_keras' (the TF 2.x line of keras.applications): its layers carry the same class names
and weight layouts, so the same comparisons and the same weight sharing apply.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest
import tf_keras

from compiler.build import build_models
from netspec.api import check_file, compile_file
from netspec.ir import keras_name

pytestmark = [pytest.mark.keras, pytest.mark.slow]

ZOO = Path("specs/zoo")

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Measured:
    params: int
    weight_shapes: list[Shape]
    taps: dict[str, Shape]


def measure(model: keras.Model, taps: dict[str, str]) -> Measured:
    """count_params, the sorted weight shapes, and the output shape of each tap (ours -> layer)."""
    return Measured(
        params=model.count_params(),
        weight_shapes=sorted(tuple(weight.shape) for weight in model.weights),
        taps={ours: tuple(model.get_layer(layer).output.shape[1:]) for ours, layer in taps.items()},
    )


def measure_application(application: Callable[..., keras.Model], taps: dict[str, str]) -> Measured:
    try:
        return measure(application(weights=None), taps)
    finally:
        keras.backend.clear_session()


def regnet_x002(**options: object) -> keras.Model:
    """tf_keras' RegNetX002 without its first layer, a parameter-free 1/255 rescaling."""
    return tf_keras.applications.RegNetX002(include_preprocessing=False, **options)


def clear_sessions() -> None:
    keras.backend.clear_session()
    tf_keras.backend.clear_session()


def by_keras_name(taps: Iterable[str]) -> dict[str, str]:
    """Our layer names -> the names our Keras build gives them."""
    return {tap: keras_name(tap) for tap in taps}


def measure_spec(path: Path, taps: Iterable[str]) -> Measured:
    try:
        return measure(build_models(compile_file(path)).inference, by_keras_name(taps))
    finally:
        keras.backend.clear_session()


def blocks(stages: dict[int, int], ours: str, keras_layer: str, first: int = 1) -> dict[str, str]:
    """Stage -> block count as names, blocks numbered from `first`: formatted with s and b."""
    return {
        ours.format(s=stage, b=block): keras_layer.format(s=stage, b=block)
        for stage, count in stages.items()
        for block in range(first, first + count)
    }


RESNET_BLOCKS = {2: 3, 3: 4, 4: 6, 5: 3}
EFFICIENTNET_B0_BLOCKS = {2: 2, 3: 2, 4: 3, 5: 3, 6: 4, 7: 1}
EFFICIENTNET_B0_ADDS = {"2b", "3b", "4b", "4c", "5b", "5c", "6b", "6c", "6d"}
MOBILENET_V3_SMALL_ADDS = {4, 5, 7, 9, 10}
CONVNEXT_TINY_BLOCKS = {0: 3, 1: 3, 2: 9, 3: 3}
REGNET_X002_BLOCKS = {0: 1, 1: 1, 2: 4, 3: 7}
MOBILENET_V2_ADDS = {2, 4, 5, 7, 8, 9, 11, 12, 14, 15}

# Spec layer -> the application's layer holding the same tensor (or one of its shape where
# Keras leaves the tensor unnamed, as Xception's adds).
TAPS: dict[str, tuple[Callable[..., keras.Model], dict[str, str]]] = {
    "resnet50": (
        keras.applications.ResNet50,
        {
            "stem/conv1": "conv1_relu",
            "stem/maxpool1": "pool1_pool",
            **blocks(RESNET_BLOCKS, "conv{s}_block{b}", "conv{s}_block{b}_out"),
        },
    ),
    "resnet50v2": (
        keras.applications.ResNet50V2,
        {
            "stem/maxpool1": "pool1_pool",
            **blocks(RESNET_BLOCKS, "conv{s}_block{b}", "conv{s}_block{b}_out"),
            "head/relu1": "post_relu",
        },
    ),
    "xception": (
        keras.applications.Xception,
        {
            "entry/conv2": "block1_conv2_act",
            **{f"block{i}": f"block{i}_pool" for i in (2, 3, 4, 13)},
            **{f"block{i}": f"block{i}_sepconv3_bn" for i in range(5, 13)},
            "exit/sepconv2": "block14_sepconv2_act",
        },
    ),
    "mobilenet": (
        keras.applications.MobileNet,
        {
            "stem/conv1": "conv1_relu",
            **{f"block{i}": f"conv_pw_{i}_relu" for i in range(1, 14)},
        },
    ),
    "mobilenet_v2": (
        keras.applications.MobileNetV2,
        {
            "stem/conv2": "expanded_conv_project_BN",
            **{
                f"block_{i}": f"block_{i}_add"
                if i in MOBILENET_V2_ADDS
                else f"block_{i}_project_BN"
                for i in range(1, 17)
            },
            "stage7/conv1": "out_relu",
        },
    ),
    "efficientnet_b0": (
        keras.applications.EfficientNetB0,
        {
            "stem/conv1": "stem_activation",
            "block1a_se": "block1a_se_excite",
            "stem/conv2": "block1a_project_bn",
            **{
                f"block{block}": f"block{block}_add"
                if block in EFFICIENTNET_B0_ADDS
                else f"block{block}_project_bn"
                for block in (
                    f"{stage}{chr(ord('a') + i)}"
                    for stage, count in EFFICIENTNET_B0_BLOCKS.items()
                    for i in range(count)
                )
            },
            "stage7/conv1": "top_activation",
        },
    ),
    "mobilenet_v3_small": (
        # Without input_shape the application takes any grid (None x None).
        functools.partial(keras.applications.MobileNetV3Small, input_shape=(224, 224, 3)),
        {
            "stem/conv1": "conv_bn",
            "expanded_conv_se": "expanded_conv_squeeze_excite_mul",
            "stage56/conv1": "expanded_conv_project_bn",
            "stage28/conv2": "expanded_conv_1_project_bn",
            "stage28/g1/add": "expanded_conv_2_add",
            **{
                f"expanded_conv_{i}": f"expanded_conv_{i}_add"
                if i in MOBILENET_V3_SMALL_ADDS
                else f"expanded_conv_{i}_project_bn"
                for i in range(3, 11)
            },
            "stage7/conv1": "conv_1_bn",
            "head/conv1": "conv_2",
        },
    ),
    # Its preprocessing included (the default): ImageNet's mean and variance as constants.
    "convnext_tiny": (
        keras.applications.ConvNeXtTiny,
        {
            "stem/normalize1": "convnext_tiny_prestem_normalization",
            "stem/layernorm1": "convnext_tiny_stem",
            **{f"stage{i}/conv1": f"convnext_tiny_downsampling_block_{i - 1}" for i in (1, 2, 3)},
            # Keras leaves a block's sum unnamed; its residual branch has the same shape.
            **blocks(
                CONVNEXT_TINY_BLOCKS,
                "stage_{s}_block_{b}",
                "convnext_tiny_stage_{s}_block_{b}_identity",
                first=0,
            ),
            "head/layernorm1": "convnext_tiny_head_layernorm",
        },
    ),
    "regnetx_002": (
        regnet_x002,
        {
            "stem/conv1": "regnetx002_stem_relu",
            **blocks(
                REGNET_X002_BLOCKS,
                "s{s}_b{b}",
                "regnetx002_Stage_{s}_XBlock_{b}_exit_relu",
                first=0,
            ),
        },
    ),
    "densenet121": (
        keras.applications.DenseNet121,
        {
            "stem/maxpool1": "pool1",
            **blocks({2: 6, 3: 12, 4: 24, 5: 16}, "conv{s}_block_{b}", "conv{s}_block{b}_concat"),
            "head/relu1": "relu",
            **{f"pool{i}": f"pool{i}_pool" for i in (2, 3, 4)},
        },
    ),
    "vgg16": (
        keras.applications.VGG16,
        {
            **{f"block{i}": f"block{i}_pool" for i in range(1, 6)},
            **blocks({1: 2, 2: 2, 3: 3, 4: 3, 5: 3}, "block{s}/conv{b}", "block{s}_conv{b}"),
        },
    ),
}


def signature(layer: keras.Layer) -> tuple[str, tuple[Shape, ...]]:
    return type(layer).__name__, tuple(tuple(weight.shape) for weight in layer.weights)


def random_weights(layer: keras.Layer, rng: np.random.Generator) -> list[np.ndarray]:
    """Weights that keep activations near 1 through a deep net: kernels scaled by fan-in.

    Each in its weight's own dtype: Normalization counts its samples in an integer.
    """
    values = []
    for weight in layer.weights:
        shape = tuple(weight.shape)
        if "variance" in weight.name:
            value = rng.uniform(0.5, 1.5, shape)
        elif len(shape) > 1:
            value = rng.normal(size=shape) / math.sqrt(math.prod(shape[:-1]))
        else:
            value = rng.normal(size=shape) * 0.1
        values.append(value.astype(np.asarray(weight).dtype))
    return values


def producer(layer: keras.Layer) -> keras.Layer | None:
    """The nearest layer with weights on the single path into `layer`; None past a merge."""
    while True:
        inputs = layer.input
        if isinstance(inputs, (list, tuple)):
            return None
        # _keras_history: (layer, node, tensor) in tf_keras, (operation, node, tensor) in Keras 3
        parent = inputs._keras_history[0]
        if parent is layer or type(parent).__name__ == "InputLayer":
            return None
        if getattr(parent, "weights", None):  # an operation (ConvNeXt's `+`) holds none
            return parent
        layer = parent


def weighted_layers(model: keras.Model) -> Iterator[keras.Layer]:
    """The layers holding weights, in order, those of nested models (ConvNeXt's stem) included."""
    for layer in model.layers:
        if isinstance(layer, (keras.Model, tf_keras.Model)):
            yield from weighted_layers(layer)
        elif layer.weights:
            yield layer


def share_random_weights(reference: keras.Model, ours: keras.Model) -> None:
    """Give both models the same random weights, pairing the layers that hold weights.

    Layers pair by class and weight shapes. A layer fed (through layers without weights) by
    a paired layer pairs with the one its partner feeds, so a batch norm follows its conv
    however Keras orders a block's branches; the others pair the n-th of a kind in one
    model's topological order with the n-th in the other's.
    """
    waiting: dict[tuple[str, tuple[Shape, ...]], list[keras.Layer]] = defaultdict(list)
    for layer in weighted_layers(ours):
        waiting[signature(layer)].append(layer)
    partners: dict[int, keras.Layer] = {}
    rng = np.random.default_rng(0)
    for layer in weighted_layers(reference):
        queue = waiting[signature(layer)]
        assert queue, f"no layer of ours matches {layer.name}: {signature(layer)}"
        fed_by = producer(layer)
        # A nested model (ConvNeXt's stem) feeding a layer is no one's partner: order decides.
        wanted = None if fed_by is None else partners.get(id(fed_by))
        fed_alike = [m for m in queue if wanted is not None and producer(m) is wanted]
        mate = (fed_alike or queue)[0]
        queue.remove(mate)
        partners[id(layer)] = mate
        values = random_weights(layer, rng)
        layer.set_weights(values)
        mate.set_weights(values)
    assert not any(waiting.values()), "layers of ours left without a counterpart"


@pytest.mark.parametrize("spec", TAPS)
def test_spec_equals_the_keras_application(spec: str) -> None:
    application, taps = TAPS[spec]
    path = ZOO / f"{spec}.ns"
    try:
        reference = application(weights=None, classifier_activation=None)
        ours = build_models(compile_file(path)).inference
        expected = measure(reference, taps)
        measured = measure(ours, by_keras_name(taps))
        assert measured.params == expected.params
        assert measured.weight_shapes == expected.weight_shapes
        assert measured.taps == expected.taps
        # The same function, not only the same weights: same weights in, same logits out.
        share_random_weights(reference, ours)
        shape = tuple(reference.input.shape[1:])
        images = np.random.default_rng(1).normal(size=(2, *shape)).astype("float32")
        np.testing.assert_allclose(
            np.asarray(ours(images, training=False)),
            np.asarray(reference(images, training=False)),
            rtol=1e-4,
            atol=1e-4,
        )
    finally:
        clear_sessions()
    totals = check_file(path).totals
    assert totals is not None
    assert totals.params == expected.params


# titu1994/keras-squeeze-excite-network, se_inception_v3.py: squeeze_excite_block(x) (ratio
# 16, two dense layers without bias) after each of InceptionV3's mixed0 .. mixed10.
MIXED_WIDTHS = (256, 288, 288, 768, 768, 768, 768, 768, 1280, 2048, 2048)


def test_se_inception_v3_is_inception_v3_with_an_se_block_after_every_module() -> None:
    mixed = {f"mixed{i}": f"mixed{i}" for i in range(11)}
    inception_v3 = measure_application(keras.applications.InceptionV3, mixed)
    se_shapes = [shape for c in MIXED_WIDTHS for shape in ((c, c // 16), (c // 16, c))]
    excited = {f"mixed{i}_se": f"mixed{i}" for i in range(11)}
    ours = measure_spec(ZOO / "se_inception_v3.ns", [*mixed, *excited])
    assert ours.params == inception_v3.params + sum(shape[0] * shape[1] for shape in se_shapes)
    assert ours.weight_shapes == sorted(inception_v3.weight_shapes + se_shapes)
    assert ours.taps == {
        **inception_v3.taps,
        **{tap: inception_v3.taps[layer] for tap, layer in excited.items()},
    }


# torchvision 0.29.1 (counted in a scratch venv: sum of p.numel() over parameters()); Keras
# adds batch norm's moving mean and variance, 2 per channel, as non-trainable weights.
@pytest.mark.parametrize(
    ("spec", "torch_params", "torch_params_with_aux", "bn_channels", "aux_bn_channels"),
    [
        ("squeezenet1_1", 1_235_496, 1_235_496, 0, 0),
        ("googlenet_torchvision", 6_624_904, 13_004_888, 7_280, 256),
        ("resnext50_32x4d", 25_028_904, 25_028_904, 34_112, 0),
    ],
)
def test_torchvision_networks_build_to_torchvisions_count(
    spec: str,
    torch_params: int,
    torch_params_with_aux: int,
    bn_channels: int,
    aux_bn_channels: int,
) -> None:
    try:
        models = build_models(compile_file(ZOO / f"{spec}.ns"))
        inference, training = models.inference, models.training
        trainable = sum(math.prod(weight.shape) for weight in inference.trainable_weights)
        trainable_with_aux = sum(math.prod(w.shape) for w in training.trainable_weights)
        assert trainable == torch_params
        assert inference.count_params() == torch_params + 2 * bn_channels
        assert trainable_with_aux == torch_params_with_aux
        assert training.count_params() == torch_params_with_aux + 2 * (
            bn_channels + aux_bn_channels
        )
    finally:
        keras.backend.clear_session()
