"""What `netspec check` knows about a network: per-layer figures, totals and diagnostics."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from netspec.diagnostics import Diagnostic, Severity

BYTES_PER_FLOAT32 = 4


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


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
    # The loose group the layer is a branch of (by its merge's name), the outermost instance
    # that wrote it and that instance's module; "" where there is none.
    group: str
    instance: str
    module: str
    output: tuple[int, int, int]
    flat: bool
    params: int
    macs: int
    receptive_field: tuple[int, int]
    jump: tuple[int, int]


class SectionReport(Frozen):
    """A section: the name its layers' `section` carries, its header as written, its line."""

    name: str
    header: str
    line: int


class AuxHeadReport(Frozen):
    name: str
    weight: float
    tap: str
    line: int


class TorchSummaryCount(Frozen):
    """torchsummary's sums over one forward pass: hooked module calls, the values of their
    outputs per example, and the hooked modules' weights and biases."""

    modules: int
    values: int
    params: int


class Totals(Frozen):
    """Inference model (no aux heads) and aux heads apart, with the conventions spelled out.

    The aux figures are None where an aux head cannot be built at this input size: the
    inference model's figures still hold there.
    """

    params: int
    aux_params: int | None
    macs: int
    aux_macs: int | None
    # Of `params`: batch norm's moving statistics, which Keras counts and PyTorch does not.
    non_trainable_params: int
    # Of `aux_params`, the same.
    aux_non_trainable_params: int | None
    # fp32 bytes of every Keras layer output a training step keeps for the backward pass,
    # per example, aux heads included (a conv, its batch norm and its activation each count).
    training_activation_bytes: int | None
    # What torchsummary adds up (netspec/analysis/torchsummary.py): in eval mode, and in
    # training mode, where the aux heads run too.
    torchsummary: TorchSummaryCount
    torchsummary_with_aux: TorchSummaryCount | None

    @property
    def params_with_aux(self) -> int | None:
        return None if self.aux_params is None else self.params + self.aux_params

    @property
    def trainable_params(self) -> int:
        return self.params - self.non_trainable_params

    @property
    def trainable_params_with_aux(self) -> int | None:
        if self.aux_params is None or self.aux_non_trainable_params is None:
            return None
        return self.trainable_params + self.aux_params - self.aux_non_trainable_params

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
    sections: tuple[SectionReport, ...] = ()
    totals: Totals | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    @property
    def has_warnings(self) -> bool:
        """Warnings, not notes: a note is advice, and never fails `--strict`."""
        return any(d.severity is Severity.warning for d in self.diagnostics)

    def grid_before_head(self) -> tuple[int, int] | None:
        """The smallest map (height, width) on the main path before the head section, aux
        heads not counted: the grid the head gets. None when no layer was analysed."""
        grids = [
            (layer.output[0], layer.output[1])
            for layer in self.layers
            if layer.role == "trunk"
            and not layer.aux
            and not layer.flat
            and layer.section != "head"
        ]
        return min(grids, key=lambda grid: grid[0] * grid[1]) if grids else None
