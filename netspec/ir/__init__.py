"""The IR: immutable pydantic models of the expanded, named layer graph that later stages
read, each layer kind with its static rule."""

from netspec.ir.base import BatchNormOptions, Frozen, LayerBase, Padding, Role, Span
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
    Projection,
    Rescale,
    Scale,
    ZeroPad,
)
from netspec.ir.convs import Conv, DepthwiseConv, SeparableConv, SlidingWindow
from netspec.ir.facts import Facts, ReceptiveField, Shape, ShapeError
from netspec.ir.layers import Layer
from netspec.ir.merges import Add, Concat, Multiply
from netspec.ir.network import AuxHead, Network
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
from netspec.ir.training import (
    AugmentConfig,
    DatasetConfig,
    OptimizerConfig,
    ScheduleConfig,
    TrainConfig,
)

__all__ = [
    "Activation",
    "AdaptiveAvgPool",
    "AdaptiveMaxPool",
    "AdaptivePool",
    "Add",
    "AugmentConfig",
    "AuxHead",
    "AvgPool",
    "BatchNorm",
    "BatchNormOptions",
    "Concat",
    "Conv",
    "DatasetConfig",
    "Dense",
    "DepthwiseConv",
    "Dropout",
    "Facts",
    "Flatten",
    "Frozen",
    "GlobalAvgPool",
    "GlobalMaxPool",
    "InputLayer",
    "Layer",
    "LayerBase",
    "LayerNorm",
    "LayerScale",
    "LocalResponseNorm",
    "MaxPool",
    "Multiply",
    "Network",
    "Normalize",
    "OptimizerConfig",
    "Padding",
    "Pointwise",
    "Projection",
    "ReceptiveField",
    "Rescale",
    "Role",
    "Scale",
    "ScheduleConfig",
    "SeparableConv",
    "Shape",
    "ShapeError",
    "SlidingWindow",
    "Span",
    "TrainConfig",
    "WindowPool",
    "ZeroPad",
]
