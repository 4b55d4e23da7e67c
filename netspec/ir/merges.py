"""Layers that join branches: concatenation, element-wise sum and product."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from netspec.ir.base import LayerBase
from netspec.ir.facts import Facts, ReceptiveField, Shape, ShapeError


def _joined(inputs: Sequence[Facts], shape: Shape, *, shortcut: bool) -> Facts:
    fields = [f.field for f in inputs]
    shortcuts = [f.shortcut_field for f in inputs]
    return Facts(
        shape,
        0,
        0,
        ReceptiveField.widest(fields),
        ReceptiveField.narrowest(shortcuts) if shortcut else ReceptiveField.widest(shortcuts),
    )


def _shapes(inputs: Sequence[Facts]) -> str:
    return ", ".join(str(f.shape) for f in inputs)


class Concat(LayerBase):
    kind: Literal["concat"] = "concat"

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        grids = {(f.shape.height, f.shape.width, f.shape.flat) for f in inputs}
        if len(grids) > 1:
            raise ShapeError(
                "concat-mismatch",
                f"the branches of this group disagree on spatial size ({_shapes(inputs)}); "
                "they must match to be concatenated",
                hint="give every branch the same total stride and padding",
            )
        first = inputs[0].shape
        channels = sum(f.shape.channels for f in inputs)
        return _joined(
            inputs, Shape(first.height, first.width, channels, first.flat), shortcut=False
        )


class Add(LayerBase):
    """Element-wise sum (ResNet's shortcut, Inception-ResNet's residual)."""

    kind: Literal["add"] = "add"

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        shapes = {f.shape for f in inputs}
        if len(shapes) > 1:
            raise ShapeError(
                "add-mismatch",
                f"an element-wise sum needs the same shape from every branch, but they give "
                f"{_shapes(inputs)}",
                hint="keep stride 1 and same padding in residual branches, or project the "
                "shortcut (`conv 1x1/S WIDTH linear`) to the other branch's shape",
            )
        return _joined(inputs, inputs[0].shape, shortcut=True)


class Multiply(LayerBase):
    """Element-wise product; a C-vector or a 1x1xC map is broadcast over the grid
    (squeeze-and-excitation's channel weights)."""

    kind: Literal["mul"] = "mul"

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        maps = {f.shape for f in inputs if not f.shape.flat and f.shape.grid() != "1x1"}
        widths = {f.shape.channels for f in inputs}
        if len(maps) > 1 or len(widths) > 1:
            raise ShapeError(
                "mul-mismatch",
                f"`merge mul` needs the same shape, or a C-vector or 1x1xC map of the same "
                f"width, from every branch, but they give {_shapes(inputs)}",
                hint="end the gating branch with `dense C sigmoid` for a C-wide map",
            )
        (shape,) = maps or {max((f.shape for f in inputs), key=lambda s: not s.flat)}
        return _joined(inputs, shape, shortcut=True)
