"""What `netspec check` knows about a network: per-layer figures, totals and diagnostics."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from netspec.diagnostics import Diagnostic

BYTES_PER_FLOAT32 = 4


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LayerReport(Frozen):
    name: str
    kind: str
    line: int
    column: int
    section: str
    role: str
    aux: str
    # The layer whose statement this node is a part of ("" when it carries its own name).
    part_of: str
    # The statement's word when it lowered to several nodes (`conv` for conv + bn + relu).
    written_as: str
    output: tuple[int, int, int]
    flat: bool
    params: int
    macs: int
    receptive_field: tuple[int, int]
    jump: tuple[int, int]


class AuxHeadReport(Frozen):
    name: str
    weight: float
    tap: str
    line: int


class Totals(Frozen):
    """Inference model (no aux heads) and aux heads apart, with the conventions spelled out."""

    params: int
    aux_params: int
    macs: int
    aux_macs: int
    # Of `params`: batch norm's moving statistics, which Keras counts and PyTorch does not.
    non_trainable_params: int
    # fp32 bytes of every Keras layer output a training step keeps for the backward pass,
    # per example, aux heads included (a conv, its batch norm and its activation each count).
    training_activation_bytes: int

    @property
    def params_with_aux(self) -> int:
        return self.params + self.aux_params

    @property
    def trainable_params(self) -> int:
        return self.params - self.non_trainable_params

    @property
    def flops(self) -> int:
        return 2 * self.macs


class Report(Frozen):
    network: str
    file: str
    input: tuple[int, int, int]
    classes: int
    layers: tuple[LayerReport, ...]
    aux_heads: tuple[AuxHeadReport, ...] = ()
    totals: Totals | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    @property
    def has_warnings(self) -> bool:
        return any(not d.is_error for d in self.diagnostics)

    def as_json(self) -> dict[str, Any]:
        totals = self.totals
        return {
            "network": self.network,
            "file": self.file,
            "input": list(self.input),
            "classes": self.classes,
            "layers": [
                {
                    "name": layer.name,
                    "kind": layer.kind,
                    "line": layer.line,
                    "section": layer.section,
                    "aux": layer.aux or None,
                    "output": list(layer.output),
                    "params": layer.params,
                    "macs": layer.macs,
                    "receptive_field": list(layer.receptive_field),
                    "jump": list(layer.jump),
                }
                for layer in self.layers
            ],
            "aux_heads": [head.model_dump() for head in self.aux_heads],
            "total_params": totals.params if totals else None,
            "aux_params": totals.aux_params if totals else None,
            "total_params_with_aux": totals.params_with_aux if totals else None,
            "trainable_params": totals.trainable_params if totals else None,
            "total_macs": totals.macs if totals else None,
            "total_flops": totals.flops if totals else None,
            "training_activation_bytes": totals.training_activation_bytes if totals else None,
            "diagnostics": [
                {
                    "severity": d.severity.value,
                    "code": d.code,
                    "message": d.message,
                    "file": d.file,
                    "line": d.line,
                    "column": d.column,
                    "hint": d.hint,
                }
                for d in self.diagnostics
            ],
        }
