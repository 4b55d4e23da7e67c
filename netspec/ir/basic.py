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


class Projection(LayerBase):
    """A Keras Dense: `units` outputs from the last axis, C*units weights (+ units biases)."""

    units: int
    # "linear" for the classifier of a head: it emits logits.
    activation: str
    bias: bool = True

    def params(self, channels: int) -> int:
        return channels * self.units + (self.units if self.bias else 0)


class Dense(Projection):
    kind: Literal["dense"] = "dense"

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = single(inputs)
        if not source.shape.flat:
            raise ShapeError(
                "dense-needs-flat",
                f"dense needs a flat vector, but gets the {source.shape} map",
                hint="add `flatten` or `gap` before it",
            )
        params = self.params(source.shape.channels)
        weights = source.shape.channels * self.units
        return replace(source.passed_on(Shape(1, 1, self.units, flat=True), params), macs=weights)


class Pointwise(Projection):
    """A dense at every position of a map (Keras Dense on a 4-D tensor): a 1x1 conv's
    numbers, H*W*C*F multiply-adds."""

    kind: Literal["pointwise"] = "pointwise"

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = feature_map(self.kind, inputs)
        shape = source.shape
        return source.slid(
            Shape(shape.height, shape.width, self.units),
            (1, 1),
            (1, 1),
            params=self.params(shape.channels),
            macs=shape.height * shape.width * shape.channels * self.units,
        )


class Elementwise(LayerBase):
    """A layer that acts on each value alone: the shape and the receptive field pass on."""

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        return single(inputs).passed_on()


class Dropout(Elementwise):
    kind: Literal["dropout"] = "dropout"
    rate: float
    # Drops each example whole (stochastic depth, drop-connect), not each value.
    per_sample: bool = False


class Rescale(Elementwise):
    """x * scale + offset (Keras Rescaling): `rescale 1/255`."""

    kind: Literal["rescale"] = "rescale"
    scale: float
    offset: float = 0.0


def _per_channel(source: Facts, params: int, non_trainable: int = 0) -> Facts:
    """A layer with `params` weights that keeps the shape and counts no multiply-adds, as
    batch norm counts none."""
    return replace(source.passed_on(params=params), non_trainable=non_trainable)


class BatchNorm(LayerBase):
    kind: Literal["bn"] = "bn"
    options: BatchNormOptions

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = single(inputs)
        channels = source.shape.channels
        return _per_channel(source, self.options.params(channels), non_trainable=2 * channels)


class Normalize(LayerBase):
    """Keras Normalization over channels, (x - mean) / sqrt(variance). Adapted (`normalize`):
    a mean and a variance per channel and a count, weights set by `adapt`, none trained.
    Constant (`normalize mean=... variance=...`): the numbers given, one for every channel
    or one per channel, and no weights (keras.applications' ImageNet preprocessing)."""

    kind: Literal["normalize"] = "normalize"
    mean: tuple[float, ...] | None = None
    variance: tuple[float, ...] | None = None

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = single(inputs)
        channels = source.shape.channels
        if self.mean is None or self.variance is None:
            weights = 2 * channels + 1
            return _per_channel(source, weights, non_trainable=weights)
        for name, numbers in (("mean", self.mean), ("variance", self.variance)):
            if len(numbers) not in (1, channels):
                raise ShapeError(
                    "normalize-mismatch",
                    f"{name}= gives {len(numbers)} numbers for {channels} channels",
                    hint=f"give one number for all the channels, or {channels}, one per channel",
                )
        return source.passed_on()


class LayerNorm(LayerBase):
    """Keras LayerNormalization over channels: gamma and beta per channel."""

    kind: Literal["layernorm"] = "layernorm"
    epsilon: float = 1e-3

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = single(inputs)
        return _per_channel(source, 2 * source.shape.channels)


class LayerScale(LayerBase):
    """A learnt scale per channel, starting at `initial` (ConvNeXt's LayerScale)."""

    kind: Literal["layerscale"] = "layerscale"
    initial: float

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = single(inputs)
        return _per_channel(source, source.shape.channels)


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
