"""What the static rules compute for a layer, and the pieces they share.

Conventions follow Keras: `same` padding gives ceil(n / stride), `valid` gives
floor((n - k) / stride) + 1. Multiply-adds count convolutions and dense layers; pooling
and elementwise layers count none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace


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

    def dims(self) -> tuple[int, int, int]:
        return (self.height, self.width, self.channels)

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

    @staticmethod
    def narrowest(fields: Sequence[ReceptiveField]) -> ReceptiveField:
        return min(fields, key=lambda f: (f.size[0] * f.size[1], f.jump))


PIXEL = ReceptiveField((1, 1), (1, 1))


@dataclass(frozen=True)
class Facts:
    shape: Shape
    params: int
    macs: int
    # The theoretical receptive field: every path through the graph counts.
    field: ReceptiveField
    # The field through residual shortcuts: an add or a multiply takes its narrowest input,
    # since a residual net's signal mostly takes its short paths (Veit et al. 2016).
    shortcut_field: ReceptiveField
    # The window the layer slides over its input and its stride: what the lints read.
    window: tuple[int, int] | None = None
    stride: tuple[int, int] = (1, 1)
    # Pools or flattens the whole map: where a network's head starts.
    whole_map: bool = False
    # Of `params`, those no optimizer trains (batch norm's moving mean and variance).
    non_trainable: int = 0

    def passed_on(self, shape: Shape | None = None, params: int = 0) -> Facts:
        """An elementwise layer's facts: the same fields, no window."""
        return Facts(shape or self.shape, params, 0, self.field, self.shortcut_field)

    def slid(
        self,
        shape: Shape,
        window: tuple[int, int],
        stride: tuple[int, int],
        params: int = 0,
        macs: int = 0,
    ) -> Facts:
        """A layer that slides `window` over this input with `stride`."""
        return Facts(
            shape,
            params,
            macs,
            self.field.through(window, stride),
            self.shortcut_field.through(window, stride),
            window,
            stride,
        )

    def pooled_whole(self, shape: Shape) -> Facts:
        """A layer that takes the whole map at once (gap, gmp, flatten, pooling to 1x1)."""
        whole = (self.shape.height, self.shape.width)
        return replace(self.slid(shape, whole, (1, 1)), window=None, whole_map=True)


class ShapeError(Exception):
    """A layer cannot be built on the shapes it receives."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


def single(inputs: Sequence[Facts]) -> Facts:
    (source,) = inputs
    return source


def feature_map(kind: str, inputs: Sequence[Facts]) -> Facts:
    """The one input of a layer that needs a H x W x C map."""
    source = single(inputs)
    if source.shape.flat:
        raise ShapeError(
            "needs-feature-map",
            f"{kind} needs a feature map, but its input is a flat vector of "
            f"{source.shape.channels}",
            hint="move it before `flatten`, `gap` or `dense`",
        )
    return source


def _spatial(size: int, window: int, stride: int, padding: str) -> int:
    if padding == "same":
        return math.ceil(size / stride)
    return (size - window) // stride + 1


def windowed_grid(
    source: Shape, window: tuple[int, int], stride: tuple[int, int], padding: str
) -> tuple[int, int]:
    """The output grid of a window sliding over `source`, as Keras computes it."""
    if padding == "valid" and (window[0] > source.height or window[1] > source.width):
        raise ShapeError(
            "window-too-large",
            f"a {window[0]}x{window[1]} window does not fit the {source.grid()} map it gets "
            "with valid padding",
            hint="use `same` padding, a smaller window, or keep the map larger upstream",
        )
    return (
        _spatial(source.height, window[0], stride[0], padding),
        _spatial(source.width, window[1], stride[1], padding),
    )
