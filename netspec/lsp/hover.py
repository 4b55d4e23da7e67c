"""What a line builds, as the layer table folds it: one entry per statement, instance,
loose group or aux head that stands on the line."""

from __future__ import annotations

from netspec.analysis.report import LayerReport, Report, SectionReport
from netspec.render import Row, compact_rows, folded_rows, si, statement_of

# A line inside a module body builds something in every instance; past this many, say how
# many more rather than fill the screen.
MOST_ROWS = 12


def rows_on_line(report: Report, line: int) -> list[Row]:
    """The table's rows written on `line` (1-based); for a line whose layers the table folds
    into a bigger row (a module body, a branch of a loose group, a line of an aux head),
    that line's own statements."""
    rows = [row for row in compact_rows(report) if row.line == line]
    if rows:
        return rows
    # Seen alone, an aux head's layers are statements of their own, not the head's row.
    layers = tuple(layer for layer in report.layers if layer.line == line)
    return folded_rows(layers, statement_of, aux_lines={})


def _output(layer: LayerReport) -> str:
    height, width, channels = layer.output
    return f"a vector of {channels:,}" if layer.flat else f"{height}x{width}x{channels}"


def _entry(row: Row) -> str:
    layers = f" · {row.count} layers" if row.count > 1 else ""
    field_height, field_width = row.layer.receptive_field
    return (
        f"**{row.name}** `{row.kind}`{layers}  \n"
        f"output {_output(row.layer)} · {row.params:,} params · {si(row.macs, 'MAC')} · "
        f"receptive field {field_height}x{field_width}"
    )


def section_rows(report: Report, section: SectionReport) -> list[Row]:
    """The section's rows (aux heads stand apart, as in the totals)."""
    return [
        row
        for row in compact_rows(report)
        if row.kind != "aux head" and row.layer.section == section.name
    ]


def _section_entry(rows: list[Row], section: SectionReport) -> str:
    last = rows[-1].layer
    field_height, field_width = last.receptive_field
    params = sum(row.params for row in rows)
    macs = sum(row.macs for row in rows)
    return (
        f"**{section.header}** `{section.name}` · {len(rows)} rows  \n"
        f"output {_output(last)} · {params:,} params · {si(macs, 'MAC')} · "
        f"receptive field {field_height}x{field_width}"
    )


def hover_markdown(report: Report, line: int) -> str | None:
    """What `line` (1-based) builds; on a section's header (`stage 4:`), the section's
    total."""
    header = next((section for section in report.sections if section.line == line), None)
    section = section_rows(report, header) if header else []
    if header and section:
        entries = [_section_entry(section, header)]
    else:
        rows = rows_on_line(report, line)
        if not rows:
            return None
        entries = [_entry(row) for row in rows[:MOST_ROWS]]
        if len(rows) > MOST_ROWS:
            entries.append(f"... and {len(rows) - MOST_ROWS} more")
    height, width, channels = report.input
    entries.append(f"_at input {height}x{width}x{channels}_")
    return "\n\n".join(entries)
