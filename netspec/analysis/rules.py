"""Shape, parameter, multiply-add and receptive-field rules: one per IR layer kind.

Conventions follow Keras: `same` padding gives ceil(n / stride), `valid` gives
floor((n - k) / stride) + 1; batch norm holds gamma (unless scale=false), beta (unless
center=false), moving mean and moving variance. Multiply-adds count convolutions and dense
layers (the residual projection included); pooling and elementwise layers count none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from netspec.ir import BatchNormOptions
from netspec.ir import layers as ir


@dataclass(frozen=True)
class Shape:
    height: int
    width: int
    channels: int
    # True after gap, flatten and dense: a vector of `channels` features (Keras: (batch, C)).
    flat: bool = False

    @property
    def elements(self) -> int:
        return self.height * self.width * self.channels

    def as_list(self) -> list[int]:
        return [self.height, self.width, self.channels]

    def grid(self) -> str:
        return f"{self.height}x{self.width}"

    def __str__(self) -> str:
        return f"{self.channels}" if self.flat else f"{self.height}x{self.width}x{self.channels}"


@dataclass(frozen=True)
class ReceptiveField:
    """How many input pixels one output position sees (size) and how far apart they are (jump)."""

    size: tuple[int, int]
    jump: tuple[int, int]

    def through(self, window: tuple[int, int], stride: tuple[int, int]) -> ReceptiveField:
        return ReceptiveField(
            size=(
                self.size[0] + (window[0] - 1) * self.jump[0],
                self.size[1] + (window[1] - 1) * self.jump[1],
            ),
            jump=(self.jump[0] * stride[0], self.jump[1] * stride[1]),
        )

    @staticmethod
    def widest(fields: Sequence[ReceptiveField]) -> ReceptiveField:
        return ReceptiveField(
            size=(max(f.size[0] for f in fields), max(f.size[1] for f in fields)),
            jump=(max(f.jump[0] for f in fields), max(f.jump[1] for f in fields)),
        )


@dataclass(frozen=True)
class Facts:
    shape: Shape
    params: int
    macs: int
    field: ReceptiveField


class ShapeError(Exception):
    """A layer cannot be built on the shapes it receives."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def batch_norm_params(options: BatchNormOptions, channels: int) -> int:
    return (2 + options.scale + options.center) * channels


def _spatial(size: int, window: int, stride: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - window) // stride + 1


def _map_input(layer: ir.LayerBase, inputs: Sequence[Facts]) -> Facts:
    (source,) = inputs
    if source.shape.flat:
        raise ShapeError(
            "needs-feature-map",
            f"{layer.kind} needs a feature map, but its input "
            f"is a flat vector of {source.shape.channels}",
            hint="move it before `flatten`, `gap` or `dense`",
        )
    return source


def _windowed(
    layer: ir.LayerBase,
    source: Facts,
    window: tuple[int, int],
    stride: tuple[int, int],
    padding: str,
) -> tuple[int, int]:
    shape = source.shape
    if padding == "valid" and (window[0] > shape.height or window[1] > shape.width):
        raise ShapeError(
            "window-too-large",
            f"a {window[0]}x{window[1]} window does not fit the {shape.grid()} map it gets "
            "with valid padding",
            hint="use `same` padding, a smaller window, or keep the map larger upstream",
        )
    return (
        _spatial(shape.height, window[0], stride[0], padding),
        _spatial(shape.width, window[1], stride[1], padding),
    )


def _input(layer: ir.InputLayer, inputs: Sequence[Facts]) -> Facts:
    return Facts(
        Shape(layer.height, layer.width, layer.channels), 0, 0, ReceptiveField((1, 1), (1, 1))
    )


def _conv(layer: ir.Conv, inputs: Sequence[Facts]) -> Facts:
    source = _map_input(layer, inputs)
    height, width = _windowed(layer, source, layer.kernel, layer.stride, layer.padding)
    kh, kw = layer.kernel
    weights = kh * kw * source.shape.channels * layer.filters
    params = weights + (layer.filters if layer.bias else 0)
    if layer.batch_norm is not None:
        params += batch_norm_params(layer.batch_norm, layer.filters)
    return Facts(
        Shape(height, width, layer.filters),
        params,
        height * width * weights,
        source.field.through(layer.kernel, layer.stride),
    )


def _pool(layer: ir.MaxPool | ir.AvgPool, inputs: Sequence[Facts]) -> Facts:
    source = _map_input(layer, inputs)
    height, width = _windowed(layer, source, layer.window, layer.stride, layer.padding)
    return Facts(
        Shape(height, width, source.shape.channels),
        0,
        0,
        source.field.through(layer.window, layer.stride),
    )


def _whole_map(source: Facts) -> ReceptiveField:
    return source.field.through((source.shape.height, source.shape.width), (1, 1))


def _gap(layer: ir.GlobalAvgPool, inputs: Sequence[Facts]) -> Facts:
    source = _map_input(layer, inputs)
    return Facts(Shape(1, 1, source.shape.channels, flat=True), 0, 0, _whole_map(source))


def _flatten(layer: ir.Flatten, inputs: Sequence[Facts]) -> Facts:
    (source,) = inputs
    return Facts(Shape(1, 1, source.shape.elements, flat=True), 0, 0, _whole_map(source))


def _dense(layer: ir.Dense, inputs: Sequence[Facts]) -> Facts:
    (source,) = inputs
    if not source.shape.flat:
        raise ShapeError(
            "dense-needs-flat",
            f"dense needs a flat vector, but gets the {source.shape} map",
            hint="add `flatten` or `gap` before it",
        )
    weights = source.shape.channels * layer.units
    return Facts(Shape(1, 1, layer.units, flat=True), weights + layer.units, weights, source.field)


def _same_shape(layer: ir.LayerBase, inputs: Sequence[Facts]) -> Facts:
    (source,) = inputs
    return Facts(source.shape, 0, 0, source.field)


def _bn(layer: ir.BatchNorm, inputs: Sequence[Facts]) -> Facts:
    (source,) = inputs
    return Facts(
        source.shape, batch_norm_params(layer.options, source.shape.channels), 0, source.field
    )


def _check_same_grid(layer: ir.LayerBase, inputs: Sequence[Facts], what: str) -> None:
    grids = {(f.shape.height, f.shape.width, f.shape.flat) for f in inputs}
    if len(grids) > 1:
        shapes = ", ".join(str(f.shape) for f in inputs)
        raise ShapeError(
            f"{what}-mismatch",
            f"the branches of this group disagree on spatial "
            f"size ({shapes}); they must match to be {what}ed",
            hint="give every branch the same total stride and padding",
        )


def _concat(layer: ir.Concat, inputs: Sequence[Facts]) -> Facts:
    _check_same_grid(layer, inputs, "concat")
    first = inputs[0].shape
    channels = sum(f.shape.channels for f in inputs)
    return Facts(
        Shape(first.height, first.width, channels, first.flat),
        0,
        0,
        ReceptiveField.widest([f.field for f in inputs]),
    )


def _residual(layer: ir.ResidualMerge, inputs: Sequence[Facts]) -> Facts:
    shortcut, *branches = inputs
    if shortcut.shape.flat:
        raise ShapeError("needs-feature-map", "a residual merge needs a feature map")
    grids = {(f.shape.height, f.shape.width) for f in inputs}
    if len(grids) > 1:
        shapes = ", ".join(str(f.shape) for f in branches)
        raise ShapeError(
            "residual-mismatch",
            f"a residual group must keep its input's "
            f"{shortcut.shape.grid()} grid, but its branches give {shapes}",
            hint="use stride 1 and same padding inside residual branches",
        )
    concat_channels = sum(f.shape.channels for f in branches)
    width = shortcut.shape.channels
    grid = shortcut.shape.height * shortcut.shape.width
    # The linear 1x1 projection (with bias) that brings the branches back to the input width.
    projection = concat_channels * width
    return Facts(
        shortcut.shape,
        projection + width,
        grid * projection,
        ReceptiveField.widest([f.field for f in inputs]),
    )


Rule = Callable[[ir.LayerBase, Sequence[Facts]], Facts]

RULES: dict[str, Rule] = {
    "input": _input,  # type: ignore[dict-item]
    "conv": _conv,  # type: ignore[dict-item]
    "maxpool": _pool,  # type: ignore[dict-item]
    "avgpool": _pool,  # type: ignore[dict-item]
    "gap": _gap,  # type: ignore[dict-item]
    "flatten": _flatten,  # type: ignore[dict-item]
    "dense": _dense,  # type: ignore[dict-item]
    "dropout": _same_shape,
    "bn": _bn,  # type: ignore[dict-item]
    "lrn": _same_shape,
    "concat": _concat,  # type: ignore[dict-item]
    "residual": _residual,  # type: ignore[dict-item]
}
