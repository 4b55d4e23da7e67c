"""What a line builds, as the layer table folds it: one entry per statement, instance,
loose group or aux head that stands on the line."""

from __future__ import annotations

import re

from netspec.analysis.report import LayerReport, Report
from netspec.render import Row, compact_rows, si

# A line inside a module body builds something in every instance; past this many, say how
# many more rather than fill the screen.
MOST_ROWS = 12
_SECTION = re.compile(r"[ \t]*(stem|head|stage\b[^:#]*):")


def rows_on_line(report: Report, line: int) -> list[Row]:
    """The table's rows written on `line` (1-based); for a line whose layers the table folds
    into a bigger row (a module body, a branch of a loose group, a line of an aux head),
    that line's own statements."""
    rows = [row for row in compact_rows(report) if row.line == line]
    if rows:
        return rows
    # Seen alone, an aux head's layers are statements of their own, not the head's row.
    layers = tuple(
        layer.model_copy(update={"aux": ""}) for layer in report.layers if layer.line == line
    )
    if not layers:
        return []
    return compact_rows(report.model_copy(update={"layers": layers, "aux_heads": ()}))


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


def section_rows(report: Report, line: int) -> list[Row]:
    """The rows of the section whose header is on `line`: those sharing the section of the
    first trunk row written after it (aux heads stand apart, as in the totals)."""
    rows = [row for row in compact_rows(report) if row.kind != "aux head"]
    first = next((row for row in rows if row.line > line), None)
    if first is None:
        return []
    return [row for row in rows if row.layer.section == first.layer.section]


def _section_entry(rows: list[Row], header: str) -> str:
    last = rows[-1].layer
    field_height, field_width = last.receptive_field
    params = sum(row.params for row in rows)
    macs = sum(row.macs for row in rows)
    return (
        f"**{header}** `{last.section}` · {len(rows)} rows  \n"
        f"output {_output(last)} · {params:,} params · {si(macs, 'MAC')} · "
        f"receptive field {field_height}x{field_width}"
    )


def hover_markdown(report: Report, line: int, source: str = "") -> str | None:
    """What `line` (1-based) builds; `source`, the line's text, says when it is a section
    header (`stage 4:`), whose hover is the section's total."""
    header = _SECTION.match(source)
    section = section_rows(report, line) if header else []
    if header and section:
        entries = [_section_entry(section, header.group(1).strip())]
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
