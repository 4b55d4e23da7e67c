"""Layer kinds of the IR graph: one frozen model per kind, told apart by `kind`.

A layer names its inputs; the network lists layers in an order where every input comes first.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Padding = Literal["same", "valid"]
Role = Literal["trunk", "branch", "aux"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Span(Frozen):
    """Where in the spec a thing was written (1-based)."""

    line: int
    column: int


class LayerBase(Frozen):
    name: str
    inputs: tuple[str, ...]
    span: Span
    # The summary group: `stem`, a stage, `head`, an aux head's name; "" outside sections.
    section: str = ""
    # trunk: the main representation; branch: inside a parallel branch; aux: an aux head.
    role: Role = "trunk"
    # The aux head a layer belongs to, "" for the inference model.
    aux: str = ""


class BatchNormOptions(Frozen):
    """Keras BatchNormalization options; `scale=false` drops gamma (as Keras InceptionV3 does)."""

    scale: bool = True
    center: bool = True
    epsilon: float = 1e-3
    momentum: float = 0.99


class InputLayer(LayerBase):
    kind: Literal["input"] = "input"
    height: int
    width: int
    channels: int


class Conv(LayerBase):
    kind: Literal["conv"] = "conv"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    filters: int
    padding: Padding
    activation: str
    bias: bool
    batch_norm: BatchNormOptions | None = None


class MaxPool(LayerBase):
    kind: Literal["maxpool"] = "maxpool"
    window: tuple[int, int]
    stride: tuple[int, int]
    padding: Padding


class AvgPool(LayerBase):
    kind: Literal["avgpool"] = "avgpool"
    window: tuple[int, int]
    stride: tuple[int, int]
    padding: Padding


class GlobalAvgPool(LayerBase):
    kind: Literal["gap"] = "gap"


class Flatten(LayerBase):
    kind: Literal["flatten"] = "flatten"


class Dense(LayerBase):
    kind: Literal["dense"] = "dense"
    units: int
    # "linear" for the classifier of a head: it emits logits.
    activation: str


class Dropout(LayerBase):
    kind: Literal["dropout"] = "dropout"
    rate: float


class BatchNorm(LayerBase):
    kind: Literal["bn"] = "bn"
    options: BatchNormOptions


class LocalResponseNorm(LayerBase):
    """Caffe's across-channel LRN (GoogLeNet v1 stem); `alpha` is divided by `size`, as in Caffe."""

    kind: Literal["lrn"] = "lrn"
    size: int = 5
    alpha: float = 1e-4
    beta: float = 0.75
    bias: float = 1.0


class Concat(LayerBase):
    kind: Literal["concat"] = "concat"


class ResidualMerge(LayerBase):
    """Inception-ResNet merge: inputs[0] is the shortcut, the rest are the branch outputs.

    The branches are concatenated, projected by a linear 1x1 conv with bias back to the
    shortcut's width, scaled, added to the shortcut, then activated.
    """

    kind: Literal["residual"] = "residual"
    scale: float
    activation: str


Layer = Annotated[
    InputLayer
    | Conv
    | MaxPool
    | AvgPool
    | GlobalAvgPool
    | Flatten
    | Dense
    | Dropout
    | BatchNorm
    | LocalResponseNorm
    | Concat
    | ResidualMerge,
    Field(discriminator="kind"),
]

LAYER_KINDS: tuple[str, ...] = (
    "input",
    "conv",
    "maxpool",
    "avgpool",
    "gap",
    "flatten",
    "dense",
    "dropout",
    "bn",
    "lrn",
    "concat",
    "residual",
)
