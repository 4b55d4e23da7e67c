"""IR to Keras 3: one builder per IR layer kind, the training and the inference model.

Every IR node is one Keras layer named after it by `netspec.ir.keras_name` (`/` becomes `_`:
Keras 3 forbids `/`), so `model.get_layer(keras_name(name))` is the tensor `netspec check`
describes. The builders
are registered for the IR classes; a test checks that every kind in `netspec.ir.Layer` has
one.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import keras
from keras import KerasTensor as Tensor

from compiler.layers import AdaptivePooling2D, LayerScale, LocalResponseNormalization
from netspec import ir
from netspec.ir import Network, keras_name
from netspec.lowering.words import keras_activation


@functools.singledispatch
def build_layer(layer: ir.LayerBase, inputs: Sequence[Tensor]) -> Tensor:
    """The Keras layer(s) for one IR node, called on its inputs' tensors."""
    raise NotImplementedError(f"no Keras builder for {type(layer).__name__}")


@build_layer.register
def _input(layer: ir.InputLayer, inputs: Sequence[Tensor]) -> Tensor:
    return keras.Input((layer.height, layer.width, layer.channels), name=keras_name(layer.name))


@build_layer.register
def _conv(layer: ir.Conv, inputs: Sequence[Tensor]) -> Tensor:
    # Without its own filter count, the conv projects back to its second input's width.
    filters = layer.filters if layer.filters is not None else inputs[1].shape[-1]
    return keras.layers.Conv2D(
        filters,
        layer.kernel,
        strides=layer.stride,
        padding=layer.padding,
        groups=layer.groups,
        use_bias=layer.bias,
        activation=keras_activation(layer.activation),
        name=keras_name(layer.name),
    )(inputs[0])


@build_layer.register
def _dwconv(layer: ir.DepthwiseConv, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.DepthwiseConv2D(
        layer.kernel,
        strides=layer.stride,
        padding=layer.padding,
        depth_multiplier=layer.multiplier,
        use_bias=layer.bias,
        activation=keras_activation(layer.activation),
        name=keras_name(layer.name),
    )(inputs[0])


@build_layer.register
def _sepconv(layer: ir.SeparableConv, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.SeparableConv2D(
        layer.filters,
        layer.kernel,
        strides=layer.stride,
        padding=layer.padding,
        use_bias=layer.bias,
        activation=keras_activation(layer.activation),
        name=keras_name(layer.name),
    )(inputs[0])


@build_layer.register
def _maxpool(layer: ir.MaxPool, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.MaxPooling2D(
        layer.window, layer.stride, padding=layer.padding, name=keras_name(layer.name)
    )(inputs[0])


@build_layer.register
def _avgpool(layer: ir.AvgPool, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.AveragePooling2D(
        layer.window, layer.stride, padding=layer.padding, name=keras_name(layer.name)
    )(inputs[0])


def _adaptive_pool(
    layer: ir.AdaptivePool, pooling: Literal["max", "avg"], inputs: Sequence[Tensor]
) -> Tensor:
    """Keras' adaptive pooling slides a window one wider than an output side of 1, which its
    TensorFlow backend cannot trace (and whose eager max pooling dies of SIGFPE): `to 1x1` is
    a global pool keeping the 1x1 grid, another grid with a side of 1 netspec's own layer."""
    name = keras_name(layer.name)
    if layer.grid == (1, 1):
        whole = (
            keras.layers.GlobalMaxPooling2D
            if pooling == "max"
            else keras.layers.GlobalAveragePooling2D
        )
        return whole(keepdims=True, name=name)(inputs[0])
    if 1 in layer.grid:
        return AdaptivePooling2D(layer.grid, pooling, name=name)(inputs[0])
    adaptive = (
        keras.layers.AdaptiveMaxPooling2D
        if pooling == "max"
        else keras.layers.AdaptiveAveragePooling2D
    )
    return adaptive(layer.grid, name=name)(inputs[0])


@build_layer.register
def _adaptive_maxpool(layer: ir.AdaptiveMaxPool, inputs: Sequence[Tensor]) -> Tensor:
    return _adaptive_pool(layer, "max", inputs)


@build_layer.register
def _adaptive_avgpool(layer: ir.AdaptiveAvgPool, inputs: Sequence[Tensor]) -> Tensor:
    return _adaptive_pool(layer, "avg", inputs)


@build_layer.register
def _gap(layer: ir.GlobalAvgPool, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.GlobalAveragePooling2D(name=keras_name(layer.name))(inputs[0])


@build_layer.register
def _gmp(layer: ir.GlobalMaxPool, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.GlobalMaxPooling2D(name=keras_name(layer.name))(inputs[0])


@build_layer.register
def _flatten(layer: ir.Flatten, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.Flatten(name=keras_name(layer.name))(inputs[0])


@build_layer.register
def _projection(layer: ir.Projection, inputs: Sequence[Tensor]) -> Tensor:
    # `dense` and `pointwise`: Keras' Dense acts on the last axis, of a flat vector or at
    # every position of a map.
    return keras.layers.Dense(
        layer.units,
        activation=keras_activation(layer.activation),
        use_bias=layer.bias,
        name=keras_name(layer.name),
    )(inputs[0])


@build_layer.register
def _dropout(layer: ir.Dropout, inputs: Sequence[Tensor]) -> Tensor:
    # `per_sample`: one draw per example, broadcast over the rest (stochastic depth).
    rank = len(inputs[0].shape)
    noise_shape = (None,) + (1,) * (rank - 1) if layer.per_sample else None
    return keras.layers.Dropout(layer.rate, noise_shape=noise_shape, name=keras_name(layer.name))(
        inputs[0]
    )


@build_layer.register
def _bn(layer: ir.BatchNorm, inputs: Sequence[Tensor]) -> Tensor:
    options = layer.options
    return keras.layers.BatchNormalization(
        scale=options.scale,
        center=options.center,
        epsilon=options.epsilon,
        momentum=options.momentum,
        name=keras_name(layer.name),
    )(inputs[0])


@build_layer.register
def _lrn(layer: ir.LocalResponseNorm, inputs: Sequence[Tensor]) -> Tensor:
    return LocalResponseNormalization(
        layer.size, layer.alpha, layer.beta, layer.bias, name=keras_name(layer.name)
    )(inputs[0])


@build_layer.register
def _activation_layer(layer: ir.Activation, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.Activation(keras_activation(layer.function), name=keras_name(layer.name))(
        inputs[0]
    )


@build_layer.register
def _scale(layer: ir.Scale, inputs: Sequence[Tensor]) -> Tensor:
    # Keras' own Rescaling, so a saved model needs no custom code (keras.applications'
    # Inception-ResNet uses a CustomScaleLayer).
    return keras.layers.Rescaling(layer.factor, name=keras_name(layer.name))(inputs[0])


@build_layer.register
def _pad(layer: ir.ZeroPad, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.ZeroPadding2D(
        ((layer.top, layer.bottom), (layer.left, layer.right)), name=keras_name(layer.name)
    )(inputs[0])


@build_layer.register
def _concat(layer: ir.Concat, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.Concatenate(axis=-1, name=keras_name(layer.name))(list(inputs))


@build_layer.register
def _add(layer: ir.Add, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.Add(name=keras_name(layer.name))(list(inputs))


@build_layer.register
def _multiply(layer: ir.Multiply, inputs: Sequence[Tensor]) -> Tensor:
    # Keras' merge layers broadcast a C-vector over a map themselves: the lower-rank input
    # gains axes after the batch, (B, C) -> (B, 1, 1, C), so no layer of its own does it.
    return keras.layers.Multiply(name=keras_name(layer.name))(list(inputs))


@dataclass(frozen=True)
class BuiltModels:
    """Two views of one set of layers: training (main + aux logits) and inference (main)."""

    training: keras.Model
    inference: keras.Model
    aux_weights: tuple[float, ...]


def build_models(network: Network) -> BuiltModels:
    tensors: dict[str, Tensor] = {}
    for layer in network.layers:
        tensors[layer.name] = build_layer(layer, [tensors[n] for n in layer.inputs])
    image = tensors[network.input.name]
    model_name = keras_name(network.name)
    main = tensors[network.output]
    aux = [tensors[head.output] for head in network.aux_heads]
    return BuiltModels(
        training=keras.Model(image, [main, *aux], name=f"{model_name}_training"),
        inference=keras.Model(image, main, name=model_name),
        aux_weights=tuple(head.weight for head in network.aux_heads),
    )


def save_inference_model(network: Network, path: Path) -> keras.Model:
    model = build_models(network).inference
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return model


# The third edition's words.


@build_layer.register
def _rescale(layer: ir.Rescale, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.Rescaling(layer.scale, layer.offset, name=keras_name(layer.name))(inputs[0])


@build_layer.register
def _normalize(layer: ir.Normalize, inputs: Sequence[Tensor]) -> Tensor:
    constants: dict[str, list[float]] = {}
    if layer.mean is not None and layer.variance is not None:
        # Keras wants the two of one shape; a single number stands for every channel.
        count = max(len(layer.mean), len(layer.variance))
        constants = {
            "mean": _spread(layer.mean, count),
            "variance": _spread(layer.variance, count),
        }
    return keras.layers.Normalization(axis=-1, name=keras_name(layer.name), **constants)(inputs[0])


def _spread(numbers: tuple[float, ...], count: int) -> list[float]:
    return list(numbers) * (count // len(numbers))


@build_layer.register
def _layernorm(layer: ir.LayerNorm, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.LayerNormalization(
        axis=-1, epsilon=layer.epsilon, name=keras_name(layer.name)
    )(inputs[0])


@build_layer.register
def _layerscale(layer: ir.LayerScale, inputs: Sequence[Tensor]) -> Tensor:
    return LayerScale(layer.initial, name=keras_name(layer.name))(inputs[0])
