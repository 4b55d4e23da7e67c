"""The input, the head's layers, and the layers that act on each value alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Literal

from netspec.ir.base import BatchNormOptions, LayerBase
from netspec.ir.facts import PIXEL, Facts, Shape, ShapeError, feature_map, single


class InputLayer(LayerBase):
    kind: Literal["input"] = "input"
    height: int
    width: int
    channels: int

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        return Facts(Shape(self.height, self.width, self.channels), 0, 0, PIXEL, PIXEL)


class Flatten(LayerBase):
    kind: Literal["flatten"] = "flatten"

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = single(inputs)
        return source.pooled_whole(Shape(1, 1, source.shape.elements, flat=True))


class Dense(LayerBase):
    kind: Literal["dense"] = "dense"
    units: int
    # "linear" for the classifier of a head: it emits logits.
    activation: str
    bias: bool = True

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = single(inputs)
        if not source.shape.flat:
            raise ShapeError(
                "dense-needs-flat",
                f"dense needs a flat vector, but gets the {source.shape} map",
                hint="add `flatten` or `gap` before it",
            )
        weights = source.shape.channels * self.units
        params = weights + (self.units if self.bias else 0)
        return replace(source.passed_on(Shape(1, 1, self.units, flat=True), params), macs=weights)


class Elementwise(LayerBase):
    """A layer that acts on each value alone: the shape and the receptive field pass on."""

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        return single(inputs).passed_on()


class Dropout(Elementwise):
    kind: Literal["dropout"] = "dropout"
    rate: float


class BatchNorm(LayerBase):
    kind: Literal["bn"] = "bn"
    options: BatchNormOptions

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = single(inputs)
        channels = source.shape.channels
        return replace(
            source.passed_on(params=self.options.params(channels)), non_trainable=2 * channels
        )


class LocalResponseNorm(Elementwise):
    """Caffe's across-channel LRN (GoogLeNet v1 stem); `alpha` is divided by `size`, as in Caffe."""

    kind: Literal["lrn"] = "lrn"
    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    bias: float = 1.0


class Activation(Elementwise):
    """`relu`, `relu6`, `sigmoid`, ... alone on a line, or after a batch norm."""

    kind: Literal["activation"] = "activation"
    function: str


class Scale(Elementwise):
    """Multiplies by a constant (Inception-ResNet's residual scaling)."""

    kind: Literal["scale"] = "scale"
    factor: float


class ZeroPad(LayerBase):
    """Zero padding: top, bottom, left, right (Keras ZeroPadding2D)."""

    kind: Literal["pad"] = "pad"
    top: int
    bottom: int
    left: int
    right: int

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = feature_map(self.kind, inputs)
        shape = source.shape
        return source.passed_on(
            Shape(
                shape.height + self.top + self.bottom,
                shape.width + self.left + self.right,
                shape.channels,
            )
        )
