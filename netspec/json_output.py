"""`netspec check --json`: pydantic models of the output, so the JSON Schema that
`--json-schema` prints is the one the output is built from.

Every report keeps the fields and names the output had before it was versioned (tools read
them); what is unknown is null, never a placeholder.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from netspec.analysis.report import LayerReport, Report
from netspec.analysis.torchsummary import inference_sizes, training_sizes
from netspec.diagnostics import Diagnostic

# Bumped when a field changes name, place or meaning; new fields do not bump it.
SCHEMA_VERSION: Literal[1] = 1


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class LayerJson(Model):
    name: str
    kind: str
    line: int
    column: int
    section: str
    role: Literal["trunk", "branch", "aux"]
    aux: str | None = Field(description="The aux head the layer belongs to; null in the model.")
    part_of: str | None = Field(
        description="The node carrying the statement this node is a part of (a conv's batch "
        "norm names its conv); null when the node carries its own statement."
    )
    written_as: str | None = Field(
        description="The word that wrote the statement when it lowered to several nodes "
        "(`conv`, `residual`), or the module of an instance's output (`inception`, `block35`)."
    )
    group: str | None = Field(
        description="The loose group of `branch:` blocks (outside any instance) the layer "
        "belongs to, by the name of the layer that merges it; null outside one."
    )
    instance: str | None = Field(
        description="The outermost module or `inception` instance that wrote the layer, by "
        "the name of its output layer; null outside one."
    )
    module: str | None = Field(
        description="The module of `instance` (`inception`, `block35`); null outside one."
    )
    output: tuple[int, int, int] = Field(description="Height, width, channels (1, 1, n if flat).")
    flat: bool = Field(description="A vector (after flatten, gap or dense), not a map.")
    params: int
    macs: int
    receptive_field: tuple[int, int]
    jump: tuple[int, int]

    @classmethod
    def of(cls, layer: LayerReport) -> LayerJson:
        optional = {"aux", "part_of", "written_as", "group", "instance", "module"}
        return cls(
            **layer.model_dump(exclude=optional),
            **{field: getattr(layer, field) or None for field in optional},
        )


class SectionJson(Model):
    name: str = Field(description="What the section's layers carry in `section`.")
    header: str = Field(description="As written: `stem`, `stage 4`, `head`.")
    line: int


class AuxHeadJson(Model):
    name: str
    weight: float
    tap: str
    line: int


class DiagnosticJson(Model):
    severity: Literal["error", "warning", "note"]
    code: str
    message: str
    file: str
    line: int = Field(description="1-based; 0 when the diagnostic has no place in the file.")
    column: int = Field(description="1-based; 0 when the diagnostic has no place in the file.")
    hint: str | None
    layers: list[str] = Field(
        description="The layers the diagnostic is about (every layer a lint flags), by name."
    )

    @classmethod
    def of(cls, diagnostic: Diagnostic) -> DiagnosticJson:
        return cls(**diagnostic.model_dump(mode="json"))


class TorchSummaryJson(Model):
    """What torchsummary prints for the network written as the classic PyTorch GoogLeNet
    (README, "Checking a spec"): its sizes, in MB of 1024**2 bytes, for one example."""

    input_mb: float
    forward_backward_mb: float
    params_mb: float
    total_mb: float
    modules: int = Field(description="The rows of its table: the hooked module calls.")
    params: int = Field(description='Its "Total params": the hooked modules\' weights and biases.')


class ReportJson(Model):
    """One spec at one input size. The totals are null where the inference model cannot be
    built; the aux figures are null where an aux head cannot."""

    network: str | None = Field(description="null when the spec does not parse or lower.")
    file: str
    input: tuple[int, int, int] | None = Field(
        description="Height, width, channels checked; null when the spec does not lower."
    )
    classes: int | None
    layers: list[LayerJson]
    aux_heads: list[AuxHeadJson]
    sections: list[SectionJson]
    total_params: int | None = Field(description="The inference model (aux heads dropped).")
    aux_params: int | None
    total_params_with_aux: int | None
    trainable_params: int | None = Field(
        description="Of total_params, all but batch norm's moving statistics."
    )
    trainable_params_with_aux: int | None
    total_macs: int | None
    aux_macs: int | None
    total_flops: int | None
    training_activation_bytes: int | None = Field(
        description="fp32 bytes of the layer outputs a training step keeps, per example."
    )
    torchsummary: TorchSummaryJson | None = Field(
        description="In eval mode: the inference model, the aux heads do not run."
    )
    torchsummary_training: TorchSummaryJson | None = Field(
        description="In training mode, torchsummary's default: the aux heads run and count; "
        "null where one cannot be built."
    )
    diagnostics: list[DiagnosticJson]

    @classmethod
    def of(cls, report: Report) -> ReportJson:
        totals = report.totals
        inference, training = inference_sizes(report), training_sizes(report)
        lowered = bool(report.layers)
        return cls(
            network=report.network if lowered else None,
            file=report.file,
            input=report.input if lowered else None,
            classes=report.classes if lowered else None,
            layers=[LayerJson.of(layer) for layer in report.layers],
            aux_heads=[AuxHeadJson(**head.model_dump()) for head in report.aux_heads],
            sections=[SectionJson(**section.model_dump()) for section in report.sections],
            total_params=totals.params if totals else None,
            aux_params=totals.aux_params if totals else None,
            total_params_with_aux=totals.params_with_aux if totals else None,
            trainable_params=totals.trainable_params if totals else None,
            trainable_params_with_aux=totals.trainable_params_with_aux if totals else None,
            total_macs=totals.macs if totals else None,
            aux_macs=totals.aux_macs if totals else None,
            total_flops=totals.flops if totals else None,
            training_activation_bytes=totals.training_activation_bytes if totals else None,
            torchsummary=TorchSummaryJson(**inference.model_dump()) if inference else None,
            torchsummary_training=TorchSummaryJson(**training.model_dump()) if training else None,
            diagnostics=[DiagnosticJson.of(d) for d in report.diagnostics],
        )


class CheckJson(Model):
    """What `netspec check --json` prints: always this object, one report per spec and
    input size, in the order given."""

    schema_version: Literal[1] = SCHEMA_VERSION
    reports: list[ReportJson]


def check_json(reports: list[Report]) -> str:
    return CheckJson(reports=[ReportJson.of(r) for r in reports]).model_dump_json(indent=2)


def check_json_schema() -> dict[str, Any]:
    return CheckJson.model_json_schema(mode="serialization")
