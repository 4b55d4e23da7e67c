"""Keras layer names: the backend names each node by `keras_name`, and Keras needs each once.

Two IR names that differ only in `/` against `_` (`stem/conv1` and an instance called
`stem_conv1`) lower cleanly but are one Keras name, so `check` holds them apart here rather
than `build` failing on them.
"""

from __future__ import annotations

from netspec.analysis.lints import label
from netspec.diagnostics import Diagnostic, error
from netspec.ir import LayerBase, Network, keras_name


def keras_name_clashes(network: Network) -> list[Diagnostic]:
    """A `duplicate-name` error at the later of two statements whose nodes share a Keras name,
    once for each such pair of statements."""

    by_name = {layer.name: layer for layer in network.layers}
    # Each node's statement: the node that carries the statement's own name and span.
    statement = {layer.name: by_name[label(layer)] for layer in network.layers}

    def where(layer: LayerBase) -> tuple[int, int]:
        return (statement[layer.name].span.line, statement[layer.name].span.column)

    first: dict[str, LayerBase] = {}
    reported: set[tuple[str, str]] = set()
    problems: list[Diagnostic] = []
    for layer in sorted(network.layers, key=where):
        name = keras_name(layer.name)
        later, earlier = statement[layer.name], statement[first.setdefault(name, layer).name]
        if later is earlier or (later.name, earlier.name) in reported:
            continue
        reported.add((later.name, earlier.name))
        problems.append(
            error(
                "duplicate-name",
                f"'{later.name}' and '{earlier.name}' (line {earlier.span.line}) both make a "
                f"Keras layer '{name}': Keras writes `/` as `_`",
                network.file,
                later.span.line,
                later.span.column,
                hint="rename one of them",
            )
        )
    return problems
