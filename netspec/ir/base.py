"""What every IR layer has: a name, its inputs, where it was written, and its static rule."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from netspec.ir.facts import Facts

Padding = Literal["same", "valid"]
Role = Literal["trunk", "branch", "aux"]


def keras_name(name: str) -> str:
    """The name a node's Keras layer takes: Keras 3 forbids `/` in layer names, so `stem/conv1`
    is `stem_conv1`. The backend names its layers by this and `check` holds them unique by it."""
    return name.replace("/", "_")


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Span(Frozen):
    """Where in the spec a thing was written (1-based)."""

    line: int
    column: int


class LayerBase(Frozen):
    """One node of the layer graph. Each kind overrides `facts`, its static rule."""

    kind: str
    name: str
    inputs: tuple[str, ...]
    span: Span
    # The summary group: `stem`, a stage, `head`, an aux head's name; "" outside sections.
    section: str = ""
    # trunk: the main representation; branch: inside a parallel branch; aux: an aux head.
    role: Role = "trunk"
    # The aux head a layer belongs to, "" for the inference model.
    aux: str = ""
    # One statement may lower to several nodes (`conv 3x3 64 bn` is a conv, a batch norm and
    # an activation): the others name the node that carries the statement's own name.
    part_of: str = ""
    # The word the statement was written with when it lowered to several nodes (`conv`,
    # `residual`): what the summary calls the statement's row.
    written_as: str = ""
    # The loose group (`branch:` blocks outside any instance) the node belongs to, by the
    # name of the node that merges it; "" outside one. The summary folds it into one row.
    group: str = ""
    # The outermost instance (of a module or `inception`) that wrote the node, by the name
    # its output carries, and that instance's module; "" outside one.
    instance: str = ""
    module: str = ""

    def facts(self, inputs: Sequence[Facts]) -> Facts:
        """Output shape, parameters, multiply-adds and receptive field from the inputs' facts;
        raises ShapeError when the layer cannot be built on them."""
        raise NotImplementedError(f"{type(self).__name__} has no static rule")


class BatchNormOptions(Frozen):
    """Keras BatchNormalization options; `scale=false` drops gamma (as Keras InceptionV3 does)."""

    scale: bool = True
    center: bool = True
    epsilon: float = 1e-3
    momentum: float = 0.99

    def params(self, channels: int) -> int:
        """gamma and beta (unless dropped), moving mean and moving variance."""
        return (2 + self.scale + self.center) * channels
