"""One small converter per Caffe layer type, in one registry, and the list of what is dropped.

A converter reads a layer's parameters and the shapes of its inputs, and returns the netspec
layers it becomes (`Piece`s) and its output shape. Caffe's output sizes are reproduced
exactly: a window becomes `valid`, `same`, or an explicit `pad` and `valid`, whichever
gives Caffe's size (its pools round up, its convs down).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netspec.caffe.prototxt import Message, Scalar
from netspec.ir.basic import LocalResponseNorm


class Unsupported(Exception):
    """A layer, or a parameter of one, that has no netspec counterpart."""


@dataclass(frozen=True)
class Shape:
    height: int
    width: int
    channels: int
    # False for a vector (after a global pool or a dense layer).
    spatial: bool = True


@dataclass
class Piece:
    """One netspec layer statement, before the spec's defaults decide which options it writes."""

    word: str
    kernel: tuple[int, int, int] | None = None  # height, width, stride
    size: int | float | None = None
    # conv, dense and pools: padding, activation, batch_norm, bias, groups.
    attributes: dict[str, Any] = field(default_factory=dict)
    # Written as given: `size=5`, `per_sample`.
    options: tuple[tuple[str, tuple[int | float, ...]], ...] = ()
    values: tuple[int, ...] = ()


Converted = tuple[list[Piece], Shape]
Converter = Callable[[Message, list[Shape]], Converted]

CONVERTERS: dict[str, Converter] = {}
# Layers whose job is the trainer's (the loss, the metrics) or the runtime's.
DROPPED = ("Softmax", "SoftmaxWithLoss", "Accuracy", "Silence")
# Handled where the graph is built: they fold into the layer before them.
FOLDED = ("ReLU", "BatchNorm", "Scale")
INPUTS = ("Input", "Data")
# The old `layers { type: CONVOLUTION }` form's names for the same layers.
OLD_TYPES = {
    "CONVOLUTION": "Convolution",
    "POOLING": "Pooling",
    "INNER_PRODUCT": "InnerProduct",
    "RELU": "ReLU",
    "LRN": "LRN",
    "DROPOUT": "Dropout",
    "CONCAT": "Concat",
    "ELTWISE": "Eltwise",
    "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss",
    "ACCURACY": "Accuracy",
    "DATA": "Data",
    "SILENCE": "Silence",
}


def converter(*types: str) -> Callable[[Converter], Converter]:
    def register(function: Converter) -> Converter:
        for name in types:
            CONVERTERS[name] = function
        return function

    return register


def whole(message: Message, name: str, default: int, least: int = 0) -> int:
    value = message.get(name, default)
    if not isinstance(value, int) or value < least:
        raise Unsupported(f"{name} must be a whole number from {least} up, not {value!r}")
    return value


def real(message: Message, name: str, default: float) -> float:
    value = message.get(name, default)
    if not isinstance(value, int | float):
        raise Unsupported(f"{name} must be a number, not {value!r}")
    return float(value)


def flag(message: Message, name: str, default: bool) -> bool:
    value: Scalar | None = message.get(name)
    return default if value is None else str(value) == "true"


def _sides(params: Message, name: str, default: int, least: int) -> tuple[int, int]:
    """`kernel_size: 3` (or repeated), or `kernel_h`/`kernel_w`."""
    repeated = [value for value in params.all(f"{name}_size" if name == "kernel" else name)]
    if params.get(f"{name}_h") is not None:
        height = whole(params, f"{name}_h", default, least)
        return height, whole(params, f"{name}_w", default, least)
    if not repeated:
        return default, default
    if not all(isinstance(value, int) and value >= least for value in repeated):
        raise Unsupported(f"{name} must be whole numbers from {least} up")
    first = repeated[0]
    last = repeated[-1]
    assert isinstance(first, int) and isinstance(last, int)
    return first, last


def _single(inputs: list[Shape]) -> Shape:
    if len(inputs) != 1:
        raise Unsupported(f"takes one input, not {len(inputs)}")
    return inputs[0]


def window(
    source: Shape,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    pad: tuple[int, int],
    out: tuple[int, int],
    word: str,
) -> list[Piece]:
    """The window layer with the padding that gives Caffe's output size `out`."""
    if stride[0] != stride[1]:
        raise Unsupported("strides that differ by side")
    if min(out) < 1:
        raise Unsupported(f"its window is larger than its {source.height}x{source.width} input")
    step = stride[0]
    sides = ((source.height, kernel[0], pad[0], out[0]), (source.width, kernel[1], pad[1], out[1]))
    piece = Piece(word, (kernel[0], kernel[1], step))
    if kernel == (1, 1) and pad == (0, 0):
        # Nothing to pad either way: the spec's default padding serves.
        piece.attributes["padding"] = None
        return [piece]
    if all(p == 0 and o == (n - k) // step + 1 for n, k, p, o in sides):
        piece.attributes["padding"] = "valid"
        return [piece]
    if all(o == math.ceil(n / step) and 2 * p <= k for n, k, p, o in sides):
        piece.attributes["padding"] = "same"
        return [piece]
    # Caffe pads `pad` before and as much as its rounding reaches after.
    after = [max(0, (o - 1) * step + k - n - p) for n, k, p, o in sides]
    piece.attributes["padding"] = "valid"
    return [Piece("pad", values=(pad[0], after[0], pad[1], after[1])), piece]


@converter("Convolution")
def convolution(layer: Message, inputs: list[Shape]) -> Converted:
    source = _single(inputs)
    if not source.spatial:
        raise Unsupported("a convolution on a vector")
    params = layer.message("convolution_param")
    if any(value != 1 for value in params.all("dilation")):
        raise Unsupported("dilation")
    kernel = _sides(params, "kernel", 1, 1)
    stride = _sides(params, "stride", 1, 1)
    pad = _sides(params, "pad", 0, 0)
    filters = whole(params, "num_output", 0, 1)
    groups = whole(params, "group", 1, 1)
    if source.channels % groups or filters % groups:
        raise Unsupported(f"group: {groups} does not divide its input and output channels")
    out = tuple(
        (n + 2 * p - k) // s + 1
        for n, k, s, p in zip((source.height, source.width), kernel, stride, pad, strict=True)
    )
    pieces = window(source, kernel, stride, pad, (out[0], out[1]), "conv")
    conv = pieces[-1]
    conv.size = filters
    conv.attributes.update(
        activation="linear", batch_norm=False, bias=flag(params, "bias_term", True), groups=groups
    )
    return pieces, Shape(out[0], out[1], filters)


@converter("Pooling")
def pooling(layer: Message, inputs: list[Shape]) -> Converted:
    source = _single(inputs)
    if not source.spatial:
        raise Unsupported("a pool on a vector")
    params = layer.message("pooling_param")
    kind = str(params.get("pool", "MAX"))
    words = {"MAX": ("maxpool", "gmp"), "AVE": ("avgpool", "gap"), "0": ("maxpool", "gmp")}
    words["1"] = words["AVE"]
    if kind not in words:
        raise Unsupported(f"pool: {kind} (MAX and AVE are)")
    sliding, global_word = words[kind]
    stride = _sides(params, "stride", 1, 1)
    pad = _sides(params, "pad", 0, 0)
    spatial = (source.height, source.width)
    if flag(params, "global_pooling", False):
        return [Piece(global_word)], Shape(1, 1, source.channels, spatial=False)
    kernel = _sides(params, "kernel", 0, 1)
    if kernel == spatial and pad == (0, 0):
        return [Piece(global_word)], Shape(1, 1, source.channels, spatial=False)
    out = []
    for n, k, s, p in zip(spatial, kernel, stride, pad, strict=True):
        size = math.ceil((n + 2 * p - k) / s) + 1
        # Caffe drops a last window that would start in the padding.
        if p > 0 and (size - 1) * s >= n + p:
            size -= 1
        out.append(size)
    pieces = window(source, kernel, stride, pad, (out[0], out[1]), sliding)
    return pieces, Shape(out[0], out[1], source.channels)


@converter("InnerProduct")
def inner_product(layer: Message, inputs: list[Shape]) -> Converted:
    source = _single(inputs)
    params = layer.message("inner_product_param")
    units = whole(params, "num_output", 0, 1)
    dense = Piece("dense", size=units)
    dense.attributes.update(
        padding="same", activation="linear", batch_norm=False, bias=flag(params, "bias_term", True)
    )
    flatten = [Piece("flatten")] if source.spatial else []
    return [*flatten, dense], Shape(1, 1, units, spatial=False)


@converter("LRN")
def lrn(layer: Message, inputs: list[Shape]) -> Converted:
    source = _single(inputs)
    params = layer.message("lrn_param")
    if str(params.get("norm_region", "ACROSS_CHANNELS")) not in ("ACROSS_CHANNELS", "0"):
        raise Unsupported("norm_region: WITHIN_CHANNEL")
    # Caffe's defaults, written where they differ from the language's.
    caffe = {
        "size": whole(params, "local_size", 5, 1),
        "alpha": real(params, "alpha", 1.0),
        "beta": real(params, "beta", 0.75),
        "bias": real(params, "k", 1.0),
    }
    fields = LocalResponseNorm.model_fields
    options = tuple(
        (name, (value,)) for name, value in caffe.items() if value != fields[name].default
    )
    return [Piece("lrn", options=options)], source


@converter("Dropout")
def dropout(layer: Message, inputs: list[Shape]) -> Converted:
    source = _single(inputs)
    rate = real(layer.message("dropout_param"), "dropout_ratio", 0.5)
    return [Piece("dropout", size=rate)], source


@converter("Concat")
def concat(layer: Message, inputs: list[Shape]) -> Converted:
    params = layer.message("concat_param")
    if whole(params, "axis", whole(params, "concat_dim", 1)) != 1:
        raise Unsupported("concatenation on an axis other than channels")
    if not inputs:
        raise Unsupported("takes its inputs from no layer")
    first = inputs[0]
    if any((each.height, each.width) != (first.height, first.width) for each in inputs):
        raise Unsupported("inputs of different sizes")
    return [Piece("concat")], Shape(
        first.height, first.width, sum(each.channels for each in inputs), first.spatial
    )


@converter("Eltwise")
def eltwise(layer: Message, inputs: list[Shape]) -> Converted:
    params = layer.message("eltwise_param")
    if str(params.get("operation", "SUM")) not in ("SUM", "1"):
        raise Unsupported(f"operation: {params.get('operation')} (SUM is)")
    if params.all("coeff"):
        raise Unsupported("coeff")
    if len(set(inputs)) != 1:
        raise Unsupported("inputs of different shapes")
    return [Piece("add")], inputs[0]
