"""Run the layer rules over the IR graph, check the heads, then the design lints."""

from __future__ import annotations

from netspec.analysis.advice import design_advice
from netspec.analysis.lints import advice_warnings, collapse_warnings, label
from netspec.analysis.names import keras_name_clashes
from netspec.analysis.report import (
    BYTES_PER_FLOAT32,
    AuxHeadReport,
    LayerReport,
    Report,
    SectionReport,
    Totals,
)
from netspec.analysis.torchsummary import count, module_calls
from netspec.diagnostics import Diagnostic, error
from netspec.ir import Facts, LayerBase, Network, ShapeError, SlidingWindow


def layer_facts(network: Network) -> tuple[dict[str, Facts], list[Diagnostic]]:
    """Facts for every layer that can be built; an error for each that cannot."""
    facts: dict[str, Facts] = {}
    problems: list[Diagnostic] = []
    for layer in network.layers:
        if any(name not in facts for name in layer.inputs):
            continue  # an upstream layer failed and was reported already
        try:
            facts[layer.name] = layer.facts([facts[n] for n in layer.inputs])
        except ShapeError as exc:
            problems.append(
                error(
                    exc.code,
                    f"{label(layer)}: {exc.message}",
                    network.file,
                    layer.span.line,
                    layer.span.column,
                    exc.hint,
                    (layer.name,),
                )
            )
    return facts, problems


def _head_problems(network: Network, facts: dict[str, Facts]) -> list[Diagnostic]:
    problems = []
    heads = [("head-classes", "the network", network.output)]
    heads += [("aux-classes", f"aux head '{h.name}'", h.output) for h in network.aux_heads]
    for code, what, output in heads:
        if output not in facts:
            continue
        shape = facts[output].shape
        if shape.flat and shape.channels == network.classes:
            continue
        layer = network.by_name[output]
        problems.append(
            error(
                code,
                f"{what} ends in {'a vector of ' if shape.flat else 'a '}{shape}, not the "
                f"{network.classes} class scores that `classes {network.classes}` asks for",
                network.file,
                layer.span.line,
                layer.span.column,
                hint="end it with `dense classes`",
                layers=(output,),
            )
        )
    return problems


def _saved_tensors(layer: LayerBase) -> int:
    """How many tensors of the layer's output size a training step keeps: a conv whose
    activation runs inside it keeps its pre-activation too."""
    return 2 if isinstance(layer, SlidingWindow) and layer.activation != "linear" else 1


def _totals(network: Network, facts: dict[str, Facts]) -> Totals | None:
    """None unless the inference model is whole; its aux heads' figures None unless they
    are whole too."""
    if any(layer.name not in facts for layer in network.inference_layers):
        return None
    params = aux_params = macs = aux_macs = activation_elements = 0
    non_trainable = aux_non_trainable = 0
    aux_complete = len(facts) == len(network.layers)
    for layer in network.layers[1:]:
        fact = facts.get(layer.name)
        if fact is None:
            continue
        if layer.aux:
            aux_params += fact.params
            aux_macs += fact.macs
            aux_non_trainable += fact.non_trainable
        else:
            params += fact.params
            macs += fact.macs
            non_trainable += fact.non_trainable
        activation_elements += fact.shape.elements * _saved_tensors(layer)
    calls = module_calls(network)
    return Totals.model_construct(
        params=params,
        aux_params=aux_params if aux_complete else None,
        macs=macs,
        aux_macs=aux_macs if aux_complete else None,
        non_trainable_params=non_trainable,
        aux_non_trainable_params=aux_non_trainable if aux_complete else None,
        training_activation_bytes=activation_elements * BYTES_PER_FLOAT32 if aux_complete else None,
        torchsummary=count(network.inference_layers, facts, calls),
        torchsummary_with_aux=count(network.layers, facts, calls) if aux_complete else None,
    )


def analyse(network: Network) -> Report:
    facts, problems = layer_facts(network)
    problems += network.warnings
    problems += _head_problems(network, facts) + keras_name_clashes(network)
    # A broken aux head should not hide what the main network does at this input size.
    if all(layer.name in facts for layer in network.inference_layers):
        problems += collapse_warnings(network, facts)
        problems += design_advice(network, advice_warnings(network, facts))
    layers = tuple(
        LayerReport.model_construct(
            name=layer.name,
            kind=layer.kind,
            line=layer.span.line,
            column=layer.span.column,
            section=layer.section,
            role=layer.role,
            aux=layer.aux,
            part_of=layer.part_of,
            written_as=layer.written_as,
            group=layer.group,
            instance=layer.instance,
            module=layer.module,
            output=facts[layer.name].shape.dims(),
            flat=facts[layer.name].shape.flat,
            params=facts[layer.name].params,
            macs=facts[layer.name].macs,
            receptive_field=facts[layer.name].field.size,
            jump=facts[layer.name].field.jump,
        )
        for layer in network.layers
        if layer.name in facts
    )
    source = network.input
    return Report.model_construct(
        network=network.name,
        file=network.file,
        input=(source.height, source.width, source.channels),
        classes=network.classes,
        layers=layers,
        aux_heads=tuple(
            AuxHeadReport.model_construct(
                name=head.name, weight=head.weight, tap=head.tap, line=head.span.line
            )
            for head in network.aux_heads
        ),
        sections=tuple(
            SectionReport.model_construct(
                name=section.name, header=section.header, line=section.span.line
            )
            for section in network.sections
        ),
        totals=_totals(network, facts),
        diagnostics=tuple(sorted(problems, key=lambda d: (d.line, d.column))),
    )
