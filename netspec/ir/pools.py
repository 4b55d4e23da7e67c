"""Pooling: windowed, adaptive (to a fixed grid) and global."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from netspec.ir.base import LayerBase, Padding
from netspec.ir.facts import Facts, Shape, ShapeError, feature_map, windowed_grid


class WindowPool(LayerBase):
    window: tuple[int, int]
    stride: tuple[int, int]
    padding: Padding

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = feature_map(self.kind, inputs)
        height, width = windowed_grid(source.shape, self.window, self.stride, self.padding)
        return source.slid(Shape(height, width, source.shape.channels), self.window, self.stride)


class MaxPool(WindowPool):
    kind: Literal["maxpool"] = "maxpool"


class AvgPool(WindowPool):
    kind: Literal["avgpool"] = "avgpool"


def adaptive_windows(size: int, cells: int) -> list[tuple[int, int]]:
    """PyTorch's windows, which Keras' adaptive pooling computes too: cell i of `cells` over
    `size` spans floor(i*size/cells) to ceil((i+1)*size/cells). The backend's own layer for
    the grids Keras cannot build (a side of 1) pools over these."""
    return [(i * size // cells, math.ceil((i + 1) * size / cells)) for i in range(cells)]


class AdaptivePool(LayerBase):
    """`avgpool to 4x4`: pools to a fixed grid whatever the input's (torchvision's aux heads)."""

    grid: tuple[int, int]

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = feature_map(self.kind, inputs)
        height, width = self.grid
        shape = Shape(height, width, source.shape.channels)
        if height > source.shape.height or width > source.shape.width:
            raise ShapeError(
                "invalid-value",
                f"pooling to {height}x{width} needs a map at least that large, but gets "
                f"{source.shape.grid()}",
                hint="pool to a smaller grid, or keep the map larger upstream",
            )
        if self.grid == (1, 1):
            return source.pooled_whole(shape)
        # The receptive field grows by the largest window; cells step by about size / grid.
        window = (
            max(end - start for start, end in adaptive_windows(source.shape.height, height)),
            max(end - start for start, end in adaptive_windows(source.shape.width, width)),
        )
        stride = (source.shape.height // height, source.shape.width // width)
        return source.slid(shape, window, stride)


class AdaptiveMaxPool(AdaptivePool):
    kind: Literal["adaptive_maxpool"] = "adaptive_maxpool"


class AdaptiveAvgPool(AdaptivePool):
    kind: Literal["adaptive_avgpool"] = "adaptive_avgpool"


class GlobalPool(LayerBase):
    def facts(self, inputs: Sequence[Facts]) -> Facts:
        source = feature_map(self.kind, inputs)
        return source.pooled_whole(Shape(1, 1, source.shape.channels, flat=True))


class GlobalAvgPool(GlobalPool):
    kind: Literal["gap"] = "gap"


class GlobalMaxPool(GlobalPool):
    kind: Literal["gmp"] = "gmp"
