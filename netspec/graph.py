"""The network as a picture, like the papers' figures: a Graphviz graph built from the IR and
its report. The trunk runs top to bottom, a group's branches stand side by side, aux heads
sit to the side, and the layers the collapse lints name are drawn in a warning colour."""

from __future__ import annotations

from collections.abc import Iterable

import graphviz

from netspec.analysis.lints import COLLAPSE_CODES
from netspec.analysis.report import Report
from netspec.ir import LayerBase, Network, SlidingWindow, WindowPool
from netspec.render import Row, compact_rows, every_row, shape_text

WARNING_COLOUR = "#f4a261"
AUX_COLOUR = "#e9e4f0"
TRUNK_COLOUR = "#eef3f8"


def _what(layer: LayerBase | None, row: Row) -> str:
    """The kind, with its window and stride for windowed layers and its width for convs."""
    if layer is None or row.count > 1:
        return row.kind
    detail = ""
    if isinstance(layer, SlidingWindow | WindowPool):
        window = layer.kernel if isinstance(layer, SlidingWindow) else layer.window
        detail = f" {window[0]}x{window[1]}"
        if layer.stride != (1, 1):
            detail += f"/{layer.stride[0]}"
    filters = getattr(layer, "filters", None)
    if isinstance(filters, int):
        detail += f" {filters}"
    return row.kind + detail


def _node_id(name: str) -> str:
    return name.replace("/", "__")


def network_graph(network: Network, report: Report, *, expand: bool = False) -> graphviz.Digraph:
    """One box per statement, instance, loose group and aux head (every IR node with
    `expand`); edges follow the graph's inputs. The layers the report's collapse warnings
    name are drawn in the warning colour."""
    flagged = {
        name
        for diagnostic in report.diagnostics
        if diagnostic.code in COLLAPSE_CODES
        for name in diagnostic.layers
    }
    rows = every_row(report) if expand else compact_rows(report)
    box_of = {member: row.name for row in rows for member in row.members}
    graph = graphviz.Digraph(
        network.name,
        graph_attr={"rankdir": "TB", "label": _title(report), "labelloc": "t", "fontsize": "18"},
        node_attr={"shape": "box", "style": "rounded,filled", "fontname": "Helvetica"},
        edge_attr={"arrowsize": "0.6"},
    )
    aux = graphviz.Digraph("cluster_aux", graph_attr={"label": "aux heads", "style": "dashed"})
    for row in rows:
        layer = network.by_name.get(row.layer.name)
        warn = bool(flagged.intersection(row.members))
        fill = WARNING_COLOUR if warn else (AUX_COLOUR if row.layer.aux else TRUNK_COLOUR)
        label = f"{row.name}\n{_what(layer, row)}\n{shape_text(row.layer)}"
        target = aux if row.layer.aux and not expand else graph
        target.node(
            _node_id(row.name),
            label,
            fillcolor=fill,
            tooltip=f"line {row.line}: {row.params:,} parameters",
            **({"class": "sees-padding", "color": "#c0392b"} if warn else {}),
        )
    graph.subgraph(aux)
    for source, target in sorted(_edges(network.layers, box_of)):
        graph.edge(_node_id(source), _node_id(target))
    return graph


def _edges(layers: Iterable[LayerBase], box_of: dict[str, str]) -> set[tuple[str, str]]:
    edges = set()
    for layer in layers:
        for name in layer.inputs:
            if name not in box_of or layer.name not in box_of:
                continue  # a layer that cannot be built at this size is not drawn
            source, target = box_of[name], box_of[layer.name]
            if source != target:
                edges.add((source, target))
    return edges


def _title(report: Report) -> str:
    height, width, channels = report.input
    return f"{report.network}  (input {height}x{width}x{channels}, {report.classes} classes)"
