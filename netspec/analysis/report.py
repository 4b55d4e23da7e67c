"""What `netspec check` knows about a network: per-layer figures, totals and diagnostics."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from netspec.diagnostics import Diagnostic

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
    # Elements of every layer output of the inference model but the input, per example, a
    # conv's activation counted apart as an nn.ReLU module is: what torchsummary adds up.
    inference_output_elements: int

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


MEBIBYTE = 1024**2


class TorchSummarySizes(Frozen):
    """The sizes torchsummary prints under its table, by its formulas (4 bytes a number, MB
    of 1024**2 bytes, one example): input; forward/backward pass, twice every layer output
    (the outputs and their gradients); params, the trainable parameters, since PyTorch keeps
    batch norm's moving statistics as buffers, which torchsummary does not count; and their
    sum."""

    input_mb: float
    forward_backward_mb: float
    params_mb: float
    total_mb: float

    @classmethod
    def of(cls, input_shape: tuple[int, int, int], totals: Totals) -> TorchSummarySizes:
        height, width, channels = input_shape
        input_mb = height * width * channels * BYTES_PER_FLOAT32 / MEBIBYTE
        passes_mb = 2 * totals.inference_output_elements * BYTES_PER_FLOAT32 / MEBIBYTE
        params_mb = totals.trainable_params * BYTES_PER_FLOAT32 / MEBIBYTE
        return cls.model_construct(
            input_mb=input_mb,
            forward_backward_mb=passes_mb,
            params_mb=params_mb,
            total_mb=input_mb + passes_mb + params_mb,
        )


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
        return any(not d.is_error for d in self.diagnostics)

    @property
    def torchsummary(self) -> TorchSummarySizes | None:
        return None if self.totals is None else TorchSummarySizes.of(self.input, self.totals)
