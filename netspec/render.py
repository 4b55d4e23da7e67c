"""Rich rendering of reports: the layer table, totals, a sweep table, diagnostics."""

from __future__ import annotations

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from netspec.analysis.report import LayerReport, Report
from netspec.diagnostics import Diagnostic
from netspec.pinpoint import pinpoint

SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "note": "bold cyan"}


def si(value: float, unit: str = "") -> str:
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:g} {unit}".strip()


def _shape(layer: LayerReport) -> str:
    height, width, channels = layer.output
    return f"{channels}" if layer.flat else f"{height}x{width}x{channels}"


def _field(layer: LayerReport) -> str:
    height, width = layer.receptive_field
    return f"{height}" if height == width else f"{height}x{width}"


def compact_rows(report: Report) -> list[tuple[LayerReport, int, int, int]]:
    """One row per trunk layer, instance and aux head: (its output layer, how many layers it
    holds, their params, their MACs). Branch layers fold into their instance's row."""
    members: dict[str, list[LayerReport]] = {}
    for layer in report.layers:
        owner = layer.aux or layer.name.split("/", 1)[0]
        members.setdefault(owner, []).append(layer)
    rows = []
    for layer in report.layers:
        if layer.role != "trunk" or layer.aux:
            if layer.aux and members[layer.aux][-1] is layer:
                group = members[layer.aux]
                rows.append(
                    (layer, len(group), sum(m.params for m in group), sum(m.macs for m in group))
                )
            continue
        group = members.get(layer.name, [layer]) if "/" not in layer.name else [layer]
        rows.append((layer, len(group), sum(m.params for m in group), sum(m.macs for m in group)))
    return rows


def layer_table(report: Report, *, every_layer: bool = False) -> Table:
    height, width, channels = report.input
    table = Table(
        title=f"{report.network}  ({report.file}, input {height}x{width}x{channels}, "
        f"{report.classes} classes)",
        title_justify="left",
        header_style="bold",
    )
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("layer", "left"),
        ("kind", "left"),
        ("line", "right"),
        ("output", "right"),
        ("params", "right"),
        ("MACs", "right"),
        ("RF", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify)
    rows = (
        [(layer, 1, layer.params, layer.macs) for layer in report.layers]
        if every_layer
        else compact_rows(report)
    )
    aux_lines = {head.name: head.line for head in report.aux_heads}
    section = None
    for layer, count, params, macs in rows:
        folded_aux = bool(layer.aux) and not every_layer
        if layer.section != section and not folded_aux:
            section = layer.section
            table.add_section()
            table.add_row(Text(section or "(no section)", style="bold cyan"))
        name = layer.aux if folded_aux else layer.name
        label = Text(name)
        if count > 1:
            label.append(f" [{count} layers]", style="dim")
        style = "dim" if layer.role == "branch" else ("magenta" if layer.aux else "")
        table.add_row(
            label,
            "aux head" if folded_aux else layer.kind,
            str(aux_lines[layer.aux] if folded_aux else layer.line),
            _shape(layer),
            f"{params:,}" if params else "",
            si(macs) if macs else "",
            _field(layer),
            style=style,
        )
    return table


def totals_lines(report: Report) -> list[str]:
    totals = report.totals
    if totals is None:
        return []
    lines = [
        f"parameters     {totals.params:>14,}  inference model (aux heads dropped)",
    ]
    if totals.non_trainable_params:
        lines.append(
            f"  trainable    {totals.trainable_params:>14,}  (the rest: batch norm's moving "
            "statistics)"
        )
    if totals.aux_params:
        lines.append(
            f"  aux heads    {totals.aux_params:>14,}  training only; "
            f"with aux: {totals.params_with_aux:,}"
        )
    lines += [
        f"multiply-adds  {si(totals.macs, 'MAC'):>14}  = {si(totals.flops, 'FLOP')} per image "
        "(conv + dense; FLOPs = 2 x MACs)",
        f"activations    {si(totals.training_activation_bytes, 'B'):>14}  per example in "
        "training (fp32 layer outputs, aux heads included)",
    ]
    return lines


def print_diagnostics(
    console: Console, diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], text: str | None
) -> None:
    for diagnostic in diagnostics:
        first, *rest = pinpoint(diagnostic, text).split("\n")
        location, _, message = first.partition(": ")
        label, _, message = message.partition(": ")
        console.print(
            Text.assemble(
                (location + ": ", "bold"),
                (label, SEVERITY_STYLE[diagnostic.severity.value]),
                (": " + message, "bold"),
            ),
            highlight=False,
        )
        for line in rest:
            console.print(
                Text(line, style="cyan" if "^" in line or "hint" in line else ""), highlight=False
            )


def print_report(
    console: Console,
    report: Report,
    text: str | None,
    *,
    show_layers: bool = True,
    every_layer: bool = False,
) -> None:
    if show_layers and report.layers:
        console.print(layer_table(report, every_layer=every_layer))
    for line in totals_lines(report):
        console.print(line, highlight=False)
    print_diagnostics(console, report.diagnostics, text)
    errors = sum(d.is_error for d in report.diagnostics)
    warnings = len(report.diagnostics) - errors
    verdict = "ok" if not report.diagnostics else f"{errors} error(s), {warnings} warning(s)"
    style = "red" if errors else ("yellow" if warnings else "green")
    console.print(Text(f"{report.file}: {verdict}", style=f"bold {style}"))


def stage_rows(report: Report) -> list[LayerReport]:
    """A stage: an instance's output (named without '/') or the last map of a section."""
    maps = [
        layer
        for layer in report.layers
        if layer.role == "trunk" and not layer.aux and not layer.flat and layer.kind != "input"
    ]
    rows = []
    for index, layer in enumerate(maps):
        next_section = maps[index + 1].section if index + 1 < len(maps) else None
        if "/" not in layer.name or next_section != layer.section:
            rows.append(layer)
    return rows


def sweep_table(reports: list[Report]) -> Table:
    """One column per input size: each stage's grid, red where it has collapsed to 1x1."""
    table = Table(
        title=f"{reports[0].network or reports[0].file}: grid per stage by input size",
        title_justify="left",
        header_style="bold",
    )
    table.add_column("stage")
    for report in reports:
        table.add_column(f"{report.input[0]}x{report.input[1]}", justify="right")
    names: list[str] = []
    for report in reports:
        names += [row.name for row in stage_rows(report) if row.name not in names]
    grids = [{row.name: row for row in stage_rows(report)} for report in reports]
    for name in names:
        cells = []
        for grid in grids:
            row = grid.get(name)
            if row is None:
                cells.append(Text("-", style="dim"))
                continue
            height, width, channels = row.output
            collapsed = (height, width) == (1, 1)
            cells.append(
                Text(f"{height}x{width}x{channels}", style="bold red" if collapsed else "")
            )
        table.add_row(escape(name), *cells)
    table.add_section()
    table.add_row("params", *[f"{r.totals.params:,}" if r.totals else "-" for r in reports])
    table.add_row("MACs", *[si(r.totals.macs) if r.totals else "-" for r in reports])
    table.add_row(
        "errors / warnings",
        *[
            f"{sum(d.is_error for d in r.diagnostics)} / "
            f"{sum(not d.is_error for d in r.diagnostics)}"
            for r in reports
        ],
    )
    return table
