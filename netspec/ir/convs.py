"""Convolutions: full (optionally grouped), depthwise and separable. Parameters as Keras counts
them: Conv2D k*k*(C/groups)*F (+F), DepthwiseConv2D k*k*C*mult (+C*mult),
SeparableConv2D k*k*C + C*F (+F)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from netspec.ir.base import LayerBase, Padding
from netspec.ir.facts import Facts, Shape, ShapeError, feature_map, windowed_grid


class SlidingWindow(LayerBase):
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: Padding
    # Inside the Keras layer: a conv that no batch norm follows keeps its activation.
    activation: str
    bias: bool

    def _output_grid(self, inputs: Sequence[Facts]) -> tuple[Facts, int, int]:
        source = feature_map(self.kind, inputs[:1])
        height, width = windowed_grid(source.shape, self.kernel, self.stride, self.padding)
        return source, height, width


class Conv(SlidingWindow):
    """A 2-D convolution. Without `filters` it takes the width of its second input: the linear
    projection back to a block's input width that `merge residual` lowers to."""

    kind: Literal["conv"] = "conv"
    filters: int | None
    groups: int = 1

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source, height, width = self._output_grid(inputs)
        filters = self.filters if self.filters is not None else inputs[1].shape.channels
        channels = source.shape.channels
        if channels % self.groups or filters % self.groups:
            raise ShapeError(
                "groups-mismatch",
                f"groups={self.groups} must divide both the input width ({channels}) and the "
                f"filters ({filters})",
                hint="choose groups that divide both widths",
            )
        weights = self.kernel[0] * self.kernel[1] * (channels // self.groups) * filters
        return source.slid(
            Shape(height, width, filters),
            self.kernel,
            self.stride,
            params=weights + (filters if self.bias else 0),
            macs=height * width * weights,
        )


class DepthwiseConv(SlidingWindow):
    """One filter (or `multiplier` filters) per input channel."""

    kind: Literal["dwconv"] = "dwconv"
    multiplier: int = 1

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source, height, width = self._output_grid(inputs)
        outputs = source.shape.channels * self.multiplier
        weights = self.kernel[0] * self.kernel[1] * outputs
        return source.slid(
            Shape(height, width, outputs),
            self.kernel,
            self.stride,
            params=weights + (outputs if self.bias else 0),
            macs=height * width * weights,
        )


class SeparableConv(SlidingWindow):
    """A depthwise conv, then a pointwise 1x1 conv to `filters` (Keras SeparableConv2D)."""

    kind: Literal["sepconv"] = "sepconv"
    filters: int

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source, height, width = self._output_grid(inputs)
        channels = source.shape.channels
        weights = self.kernel[0] * self.kernel[1] * channels + channels * self.filters
        return source.slid(
            Shape(height, width, self.filters),
            self.kernel,
            self.stride,
            params=weights + (self.filters if self.bias else 0),
            macs=height * width * weights,
        )
