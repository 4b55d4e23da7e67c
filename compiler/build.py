"""IR to Keras 3: one builder per layer kind, the training and the inference model.

Each IR layer's last Keras layer carries the IR name (`/` becomes `_`: Keras 3 forbids
`/`), so `model.get_layer(keras_name(name))` is the tensor `netspec check` describes.
Intermediate Keras layers take suffixes: `_conv`, `_bn`, `_project`, `_scale`, `_add`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras

from compiler.layers import LocalResponseNormalization
from netspec.ir import Network
from netspec.ir import layers as ir

Tensor = keras.KerasTensor


def keras_name(ir_name: str) -> str:
    return ir_name.replace("/", "_")


def _activation(name: str) -> str | None:
    return None if name == "linear" else name


def _batch_norm(options: ir.BatchNormOptions, name: str) -> keras.layers.Layer:
    return keras.layers.BatchNormalization(
        scale=options.scale,
        center=options.center,
        epsilon=options.epsilon,
        momentum=options.momentum,
        name=name,
    )


def _conv(layer: ir.Conv, inputs: Sequence[Tensor]) -> Tensor:
    name = keras_name(layer.name)
    if layer.batch_norm is None:
        # The activation stays inside Conv2D, as hand-written Keras has it: one layer, one op.
        return keras.layers.Conv2D(
            layer.filters,
            layer.kernel,
            strides=layer.stride,
            padding=layer.padding,
            use_bias=layer.bias,
            activation=_activation(layer.activation),
            name=name,
        )(inputs[0])
    has_activation = layer.activation != "linear"
    x = keras.layers.Conv2D(
        layer.filters,
        layer.kernel,
        strides=layer.stride,
        padding=layer.padding,
        use_bias=layer.bias,
        name=f"{name}_conv",
    )(inputs[0])
    x = _batch_norm(layer.batch_norm, f"{name}_bn" if has_activation else name)(x)
    if has_activation:
        x = keras.layers.Activation(layer.activation, name=name)(x)
    return x


def _maxpool(layer: ir.MaxPool, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.MaxPooling2D(
        layer.window, layer.stride, padding=layer.padding, name=keras_name(layer.name)
    )(inputs[0])


def _avgpool(layer: ir.AvgPool, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.AveragePooling2D(
        layer.window, layer.stride, padding=layer.padding, name=keras_name(layer.name)
    )(inputs[0])


def _gap(layer: ir.GlobalAvgPool, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.GlobalAveragePooling2D(name=keras_name(layer.name))(inputs[0])


def _flatten(layer: ir.Flatten, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.Flatten(name=keras_name(layer.name))(inputs[0])


def _dense(layer: ir.Dense, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.Dense(
        layer.units, activation=_activation(layer.activation), name=keras_name(layer.name)
    )(inputs[0])


def _dropout(layer: ir.Dropout, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.Dropout(layer.rate, name=keras_name(layer.name))(inputs[0])


def _bn(layer: ir.BatchNorm, inputs: Sequence[Tensor]) -> Tensor:
    return _batch_norm(layer.options, keras_name(layer.name))(inputs[0])


def _lrn(layer: ir.LocalResponseNorm, inputs: Sequence[Tensor]) -> Tensor:
    return LocalResponseNormalization(
        layer.size, layer.alpha, layer.beta, layer.bias, name=keras_name(layer.name)
    )(inputs[0])


def _concat(layer: ir.Concat, inputs: Sequence[Tensor]) -> Tensor:
    return keras.layers.Concatenate(axis=-1, name=keras_name(layer.name))(list(inputs))


def _residual(layer: ir.ResidualMerge, inputs: Sequence[Tensor]) -> Tensor:
    """Inception-ResNet: concat, linear 1x1 projection with bias, scale, add, activation.

    Built from Keras' own layers (Rescaling for the scale) so a saved model needs no
    custom code, unlike keras.applications' CustomScaleLayer.
    """
    name = keras_name(layer.name)
    shortcut, *branches = inputs
    mixed = (
        keras.layers.Concatenate(axis=-1, name=f"{name}_concat")(branches)
        if len(branches) > 1
        else branches[0]
    )
    projected = keras.layers.Conv2D(shortcut.shape[-1], 1, use_bias=True, name=f"{name}_project")(
        mixed
    )
    scaled = keras.layers.Rescaling(layer.scale, name=f"{name}_scale")(projected)
    has_activation = layer.activation != "linear"
    added = keras.layers.Add(name=f"{name}_add" if has_activation else name)([shortcut, scaled])
    if has_activation:
        return keras.layers.Activation(layer.activation, name=name)(added)
    return added


Builder = Callable[[ir.LayerBase, Sequence[Tensor]], Tensor]

BUILDERS: dict[str, Builder] = {
    "conv": _conv,  # type: ignore[dict-item]
    "maxpool": _maxpool,  # type: ignore[dict-item]
    "avgpool": _avgpool,  # type: ignore[dict-item]
    "gap": _gap,  # type: ignore[dict-item]
    "flatten": _flatten,  # type: ignore[dict-item]
    "dense": _dense,  # type: ignore[dict-item]
    "dropout": _dropout,  # type: ignore[dict-item]
    "bn": _bn,  # type: ignore[dict-item]
    "lrn": _lrn,  # type: ignore[dict-item]
    "concat": _concat,  # type: ignore[dict-item]
    "residual": _residual,  # type: ignore[dict-item]
}


@dataclass(frozen=True)
class BuiltModels:
    """Two views of one set of layers: training (main + aux logits) and inference (main)."""

    training: keras.Model
    inference: keras.Model
    aux_weights: tuple[float, ...]


def build_models(network: Network) -> BuiltModels:
    source = network.input
    image = keras.Input(
        (source.height, source.width, source.channels), name=keras_name(source.name)
    )
    tensors: dict[str, Tensor] = {source.name: image}
    for layer in network.layers[1:]:
        tensors[layer.name] = BUILDERS[layer.kind](layer, [tensors[n] for n in layer.inputs])
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
