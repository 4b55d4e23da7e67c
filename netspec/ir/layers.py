"""`Layer`: the union of the IR graph's layer kinds, one frozen model per kind (defined in
base, basic, convs, pools and merges), told apart by `kind`, each with its static rule.

A layer names its inputs; the network lists layers in an order where every input comes
first. Adding a kind: docs/architecture.md.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from netspec.ir.basic import (
    Activation,
    BatchNorm,
    Dense,
    Dropout,
    Flatten,
    InputLayer,
    LayerNorm,
    LayerScale,
    LocalResponseNorm,
    Normalize,
    Pointwise,
    Rescale,
    Scale,
    ZeroPad,
)
from netspec.ir.convs import Conv, DepthwiseConv, SeparableConv
from netspec.ir.merges import Add, Concat, Multiply
from netspec.ir.pools import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    GlobalAvgPool,
    GlobalMaxPool,
    MaxPool,
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
    | Pointwise
    | Dropout
    | BatchNorm
    | LocalResponseNorm
    | Normalize
    | LayerNorm
    | LayerScale
    | Activation
    | Scale
    | Rescale
    | ZeroPad
    | Concat
    | Add
    | Multiply,
    Field(discriminator="kind"),
]
