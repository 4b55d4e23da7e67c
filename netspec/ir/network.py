"""The whole network: its layer graph, heads and training recipe."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field, model_validator

from netspec.diagnostics import Diagnostic
from netspec.ir.base import Frozen, Span
from netspec.ir.basic import InputLayer
from netspec.ir.layers import Layer
from netspec.ir.training import TrainConfig


class AuxHead(Frozen):
    """An auxiliary classifier: its loss counts `weight` times in training; inference drops it."""

    name: str
    weight: float
    tap: str
    output: str
    span: Span


class Section(Frozen):
    """A `stem:`, `stage NAME:` or `head:` block: the name its layers carry in `section`,
    and its header as written (`stage 4`)."""

    name: str
    header: str
    span: Span


class Network(Frozen):
    name: str
    file: str
    classes: int
    classes_span: Span
    layers: tuple[Layer, ...]
    output: str
    aux_heads: tuple[AuxHead, ...] = ()
    sections: tuple[Section, ...] = ()
    train: TrainConfig = Field(default_factory=TrainConfig)
    # What lowering noticed but can build (an activation on a head's logits); analysis
    # reports these with its own findings.
    warnings: tuple[Diagnostic, ...] = ()

    @model_validator(mode="after")
    def _graph_is_ordered(self) -> Network:
        seen: set[str] = set()
        for layer in self.layers:
            missing = [name for name in layer.inputs if name not in seen]
            if missing or layer.name in seen:
                raise ValueError(f"layer {layer.name!r} is out of order or repeated")
            seen.add(layer.name)
        if not self.layers or not isinstance(self.layers[0], InputLayer):
            raise ValueError("the first layer must be the input")
        return self

    @property
    def input(self) -> InputLayer:
        first = self.layers[0]
        assert isinstance(first, InputLayer)
        return first

    @cached_property
    def by_name(self) -> dict[str, Layer]:
        return {layer.name: layer for layer in self.layers}

    @property
    def inference_layers(self) -> tuple[Layer, ...]:
        return tuple(layer for layer in self.layers if not layer.aux)
