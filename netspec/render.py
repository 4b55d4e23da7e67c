"""Rich rendering of reports: the layer table, totals, a sweep table, diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console, JustifyMethod
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from netspec.analysis.report import LayerReport, Report
from netspec.analysis.torchsummary import inference_sizes, training_sizes
from netspec.diagnostics import Diagnostic, Severity
from netspec.lowering.search import values_text
from netspec.pinpoint import locate

if TYPE_CHECKING:
    from netspec.runs import Run  # `check` never reads runs: no need to load their model

SEVERITY_STYLE = {"error": "bold red", "warning": "bold yellow", "note": "bold cyan"}


def si(value: float, unit: str = "") -> str:
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:g} {unit}".strip()


def shape_text(layer: LayerReport) -> str:
    return output_text(layer.output, layer.flat)


def output_text(output: tuple[int, int, int], flat: bool) -> str:
    height, width, channels = output
    return f"{channels}" if flat else f"{height}x{width}x{channels}"


def field_text(receptive_field: tuple[int, int]) -> str:
    height, width = receptive_field
    return f"{height}" if height == width else f"{height}x{width}"


@dataclass(frozen=True)
class Row:
    """One row of the layer table: the layer that ends it, and the layers it stands for."""

    layer: LayerReport
    name: str
    kind: str
    line: int
    count: int
    params: int
    macs: int
    # The IR nodes the row stands for.
    members: tuple[str, ...]


def statement_of(layer: LayerReport) -> str:
    """The node carrying the statement that wrote the layer."""
    return layer.part_of or layer.name


def compact_rows(report: Report) -> list[Row]:
    """One row per trunk statement, instance, loose group and aux head; every layer is in
    exactly one row, so the rows' parameters add up to the totals."""
    built = {layer.name for layer in report.layers}

    def row_of(layer: LayerReport) -> str:
        """Its aux head, its instance, the loose group it is a branch of, or its statement.
        An instance or group whose output cannot be built at this size has no row: what
        was built of it shows statement by statement."""
        whole = next((name for name in (layer.instance, layer.group) if name in built), "")
        return layer.aux or whole or statement_of(layer)

    return folded_rows(report.layers, row_of, {head.name: head.line for head in report.aux_heads})


def folded_rows(
    layers: tuple[LayerReport, ...],
    row_of: Callable[[LayerReport], str],
    aux_lines: dict[str, int],
) -> list[Row]:
    """The layers folded by `row_of`; a row named after an aux head (in `aux_lines`, by
    its line) is that head's."""
    by_name = {layer.name: layer for layer in layers}
    members: dict[str, list[LayerReport]] = {}
    for layer in layers:
        members.setdefault(row_of(layer), []).append(layer)
    rows = []
    for key, group in members.items():
        layer = by_name.get(key, group[-1])
        rows.append(
            Row(
                layer=layer,
                name=key,
                kind="aux head" if key in aux_lines else (layer.written_as or layer.kind),
                line=aux_lines.get(key, layer.line),
                count=sum(1 for member in group if not member.part_of),
                params=sum(member.params for member in group),
                macs=sum(member.macs for member in group),
                members=tuple(member.name for member in group),
            )
        )
    # A row stands where its last layer stands.
    order = {layer.name: index for index, layer in enumerate(layers)}
    return sorted(rows, key=lambda row: max(order[m.name] for m in members[row.name]))


def every_row(report: Report) -> list[Row]:
    return [
        Row(layer, layer.name, layer.kind, layer.line, 1, layer.params, layer.macs, (layer.name,))
        for layer in report.layers
    ]


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
    section = None
    for row in every_row(report) if every_layer else compact_rows(report):
        layer = row.layer
        folded_aux = row.kind == "aux head"
        if layer.section != section and not folded_aux:
            section = layer.section
            table.add_section()
            table.add_row(Text(section or "(no section)", style="bold cyan"))
        label = Text(row.name)
        if row.count > 1:
            label.append(f" [{row.count} layers]", style="dim")
        style = "dim" if layer.role == "branch" else ("magenta" if layer.aux else "")
        table.add_row(
            label,
            row.kind,
            str(row.line),
            shape_text(layer),
            f"{row.params:,}" if row.params else "",
            si(row.macs) if row.macs else "",
            field_text(layer.receptive_field),
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
    if totals.aux_params is None:
        lines.append(f"  aux heads    {'-':>14}  cannot be built at this input size")
    elif totals.aux_params:
        lines.append(
            f"  aux heads    {totals.aux_params:>14,}  training only; "
            f"with aux: {totals.params_with_aux:,}"
        )
    lines.append(
        f"multiply-adds  {si(totals.macs, 'MAC'):>14}  = {si(totals.flops, 'FLOP')} per image "
        "(conv + dense; FLOPs = 2 x MACs)",
    )
    if totals.training_activation_bytes is not None:
        lines.append(
            f"activations    {si(totals.training_activation_bytes, 'B'):>14}  per example in "
            "training (fp32 layer outputs, aux heads included)"
        )
    lines.append(torchsummary_line(report))
    return lines


def torchsummary_line(report: Report) -> str:
    """torchsummary's sizes in training mode, where the aux heads run, with the eval-mode
    total beside; in MB."""
    inference = inference_sizes(report)
    assert inference is not None  # there are totals
    training = training_sizes(report)
    if not report.aux_heads:
        mode, shown = "", inference
    elif training is None:
        mode, shown = "without aux heads: ", inference
    else:
        mode, shown = "with aux heads: ", training
    line = (
        f"torchsummary   {mode}input {shown.input_mb:.2f}, forward/backward pass "
        f"{shown.forward_backward_mb:.2f}, params {shown.params_mb:.2f}, estimated total "
        f"{shown.total_mb:.2f} MB"
    )
    return line if shown is inference else f"{line}; without: {inference.total_mb:.2f} MB"


def at_input(report: Report) -> str:
    height, width, channels = report.input
    return f"at input {height}x{width}x{channels}"


def print_diagnostics(
    console: Console,
    diagnostics: tuple[Diagnostic, ...] | list[Diagnostic],
    text: str | None,
    *,
    context: str = "",
) -> None:
    """Each header `file:line:col: severity[code]: message` on one line, never wrapped, so
    grep and editors can parse it; `context` (the input size in a sweep) ends the message."""
    for diagnostic in diagnostics:
        place = locate(diagnostic, text)
        console.print(
            Text.assemble(
                (place.location + ": ", "bold"),
                (place.label, SEVERITY_STYLE[diagnostic.severity.value]),
                (": " + place.message + (f" ({context})" if context else ""), "bold"),
            ),
            highlight=False,
            soft_wrap=True,
        )
        quote = place.quote
        if quote is not None:
            console.print(f"{quote.gutter} |", highlight=False, soft_wrap=True)
            if console.color_system is not None:
                console.print(Text(quote.prefix) + highlighted(quote.source), highlight=False)
            else:
                console.print(Text(quote.prefix + quote.source), highlight=False, soft_wrap=True)
            console.print(Text(quote.caret, style="cyan"), highlight=False, soft_wrap=True)
        if place.hint_line is not None:
            console.print(Text(place.hint_line, style="cyan"), highlight=False, soft_wrap=True)


def print_diagnostics_notes_counted(
    console: Console, diagnostics: tuple[Diagnostic, ...], text: str | None, file: str
) -> None:
    """What `build` and `train` say before their work: errors and warnings in full, and the
    notes (advice, which `check` prints each of) in one line."""
    print_diagnostics(console, [d for d in diagnostics if d.severity is not Severity.note], text)
    if notes := notes_count(diagnostics):
        console.print(
            f"{file}: {notes} design note(s); `netspec check {file}` shows them",
            highlight=False,
            soft_wrap=True,
        )


def highlighted(source: str) -> Text:
    """A spec line coloured by the netspec lexer; only for terminals, so that piped output
    (and Pygments' import) is left out where nobody sees colours."""
    from rich.syntax import Syntax

    from netspec.lexer import NetspecLexer

    syntax = Syntax("", NetspecLexer(), theme="ansi_dark", background_color="default")
    text = syntax.highlight(source)
    text.rstrip_end(len(source))  # Syntax ends the line with a newline the console adds
    return text


def notes_count(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic]) -> int:
    return sum(d.severity is Severity.note for d in diagnostics)


def print_report(
    console: Console,
    errors_console: Console,
    report: Report,
    text: str | None,
    *,
    show_layers: bool = True,
    every_layer: bool = False,
    in_sweep: bool = False,
) -> None:
    """The table and totals on `console` (stdout); the diagnostics and the verdict on
    `errors_console` (stderr)."""
    if show_layers and report.layers:
        console.print(layer_table(report, every_layer=every_layer))
    context = at_input(report) if in_sweep else ""
    if context and report.totals:
        console.print(f"{report.file} ({context}):", highlight=False)
    for line in totals_lines(report):
        console.print(line, highlight=False)
    print_diagnostics(errors_console, report.diagnostics, text, context=context)
    errors = sum(d.is_error for d in report.diagnostics)
    warnings = sum(d.severity is Severity.warning for d in report.diagnostics)
    verdict = "ok" if not report.diagnostics else f"{errors} error(s), {warnings} warning(s)"
    if notes := notes_count(report.diagnostics):
        verdict += f", {notes} note(s)"
    style = "red" if errors else ("yellow" if warnings else "green")
    where = f"{report.file} ({context})" if context else report.file
    errors_console.print(Text(f"{where}: {verdict}", style=f"bold {style}"), soft_wrap=True)


def _stands_alone(layer: LayerReport) -> bool:
    """A top-level instance's output, or a statement outside any section, group or instance."""
    return layer.instance == layer.name or not (
        layer.section or layer.group or layer.instance or layer.part_of
    )


def stage_rows(report: Report) -> list[LayerReport]:
    """A stage: a layer that stands alone, or the last map of a section."""
    maps = [
        layer
        for layer in report.layers
        if layer.role == "trunk" and not layer.aux and not layer.flat and layer.kind != "input"
    ]
    rows = []
    for index, layer in enumerate(maps):
        next_section = maps[index + 1].section if index + 1 < len(maps) else None
        if _stands_alone(layer) or next_section != layer.section:
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
            f"{sum(d.severity is Severity.warning for d in r.diagnostics)}"
            for r in reports
        ],
    )
    return table


def runs_table(runs: list[Run]) -> Table:
    """`netspec runs`: one row per run directory, best test accuracy first; the search
    values of each run a sweep trained, when there are any."""
    table = Table(title="runs", title_justify="left", header_style="bold")
    configured = any(run.configuration for run in runs)
    names = ("run", "network", *(("configuration",) if configured else ()))
    for column in (*names, "input", "params", "MACs", "dataset", "epochs"):
        table.add_column(column, justify="left" if column in names else "right")
    for column in ("best acc", "last acc", "wall", "img/s", "precision", "status"):
        table.add_column(column, justify="left" if column == "status" else "right")
    for run in runs:
        planned = f"/{run.epochs_planned}" if run.epochs_planned else ""
        values = (values_text(run.configuration or {}),) if configured else ()
        table.add_row(
            Path(run.directory).name,
            run.network or "?",
            *values,
            "x".join(map(str, run.input)) if run.input else "?",
            f"{run.params:,}" if run.params is not None else "?",
            si(run.macs) if run.macs is not None else "?",
            run.dataset or "?",
            f"{run.epochs_completed}{planned}",
            f"{run.best_accuracy:.4f}" if run.best_accuracy is not None else "",
            f"{run.last_accuracy:.4f}" if run.last_accuracy is not None else "",
            f"{run.wall_seconds:,.0f} s",
            f"{run.images_per_second:,.0f}" if run.images_per_second else "",
            run.precision or "?",
            run.status,
            style="" if run.status == "finished" else "yellow",
        )
    return table
