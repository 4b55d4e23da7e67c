"""Layer kinds of the IR graph: one frozen model per kind, told apart by `kind`, each with its
static rule (`facts`).

A layer names its inputs; the network lists layers in an order where every input comes
first. Adding a kind: docs/architecture.md.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from netspec.ir.base import BatchNormOptions, Frozen, LayerBase, Padding, Role, Span
from netspec.ir.basic import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Flatten,
    InputLayer,
    LocalResponseNorm,
    Scale,
    ZeroPad,
)
from netspec.ir.convs import Conv, DepthwiseConv, SeparableConv, SlidingWindow
from netspec.ir.merges import Add, Concat, Multiply
from netspec.ir.pools import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AdaptivePool,
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
    WindowPool,
)

Layer = Annotated[
    InputLayer
    | Conv
    | DepthwiseConv
    | SeparableConv
    | MaxPool
    | AvgPool
    | AdaptiveMaxPool
    | AdaptiveAvgPool
    | GlobalAvgPool
    | GlobalMaxPool
    | Flatten
    | Dense
    | Dropout
    | BatchNorm
    | LocalResponseNorm
    | Activation
    | Scale
    | ZeroPad
    | Concat
    | Add
    | Multiply,
    Field(discriminator="kind"),
]

__all__ = [
    "Activation",
    "AdaptiveAvgPool",
    "AdaptiveMaxPool",
    "AdaptivePool",
    "Add",
    "AvgPool",
    "BatchNorm",
    "BatchNormOptions",
    "Concat",
    "Conv",
    "Dense",
    "DepthwiseConv",
    "Dropout",
    "Flatten",
    "Frozen",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "InputLayer",
    "Layer",
    "LayerBase",
    "LocalResponseNorm",
    "MaxPool",
    "Multiply",
    "Padding",
    "Role",
    "Scale",
    "SeparableConv",
    "SlidingWindow",
    "Span",
    "WindowPool",
    "ZeroPad",
]
