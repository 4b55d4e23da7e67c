"""Rich rendering of `netspec diff`: one row per section (and per statement with
`--layers`), each side's figures and B's change, the totals, and the diagnostics one side
has and the other has not."""

from __future__ import annotations

from rich.console import Console, JustifyMethod
from rich.table import Table
from rich.text import Text

from netspec.diff import Count, NetworkDiff, RowDiff, SectionDiff, Side
from netspec.render import field_text, output_text, print_diagnostics, si

_MARK = {"added": "+ ", "removed": "- ", "changed": "", "same": ""}
_STYLE = {"added": "green", "removed": "red", "changed": "", "same": "dim"}


def _signed(value: int, text: str) -> str:
    """A change: `+` before a gain (the formatters sign a loss), nothing where none."""
    if value == 0:
        return ""
    return f"+{text}" if value > 0 else text


def _count(value: int | None) -> str:
    return f"{value:,}" if value else ""


def _macs(value: int | None) -> str:
    return si(value) if value else ""


def _cells(row: RowDiff | SectionDiff) -> list[str]:
    sides = (row.a, row.b)
    change = row.change
    return [
        *[output_text(side.output, side.flat) if side else "" for side in sides],
        *[_count(side.params if side else None) for side in sides],
        _params_change(change.params if change else None),
        *[_macs(side.macs if side else None) for side in sides],
        _macs_change(change.macs if change else None),
        *[field_text(side.receptive_field) if side else "" for side in sides],
    ]


def _params_change(change: int | None) -> str:
    return "" if change is None else _signed(change, f"{change:,}")


def _macs_change(change: int | None) -> str:
    return "" if change is None else _signed(change, si(change))


def _title(label: str, side: Side) -> str:
    if side.network is None or side.input is None:
        return f"{label}  {side.file} (did not lower)"
    height, width, channels = side.input
    return (
        f"{label}  {side.network}  ({side.file}, input {height}x{width}x{channels}, "
        f"{side.classes} classes)"
    )


def diff_table(diff: NetworkDiff, *, statements: bool = False) -> Table:
    table = Table(
        title=f"{_title('A', diff.a)}\n{_title('B', diff.b)}",
        title_justify="left",
        header_style="bold",
    )
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("section", "left"),
        ("output A", "right"),
        ("output B", "right"),
        ("params A", "right"),
        ("params B", "right"),
        ("change", "right"),
        ("MACs A", "right"),
        ("MACs B", "right"),
        ("change", "right"),
        ("RF A", "right"),
        ("RF B", "right"),
    )
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for section in diff.sections:
        if statements:
            table.add_section()
        mark = _MARK[section.status]
        name = Text(mark + (section.name or "(no section)"), style="bold cyan")
        table.add_row(name, *_cells(section), style=_STYLE[section.status])
        if statements:
            for row in section.rows:
                label = Text(_MARK[row.status] + row.name)
                table.add_row(label, *_cells(row), style=_STYLE[row.status])
    table.add_section()
    _total(table, "total", diff.totals.params, diff.totals.macs)
    if diff.totals.aux_params.a or diff.totals.aux_params.b:
        _total(table, "aux heads", diff.totals.aux_params, None)
    return table


def _total(table: Table, label: str, params: Count, macs: Count | None) -> None:
    cells = ["", "", _count(params.a), _count(params.b), _params_change(params.change)]
    if macs is not None:
        cells += [_macs(macs.a), _macs(macs.b), _macs_change(macs.change)]
    table.add_row(Text(label, style="bold"), *cells)


def print_diff(console: Console, diff: NetworkDiff, *, statements: bool = False) -> None:
    """The table, then each side's diagnostics that the other has not, on `console`."""
    console.print(diff_table(diff, statements=statements))
    for label, side, only in (("A", diff.a, diff.only_in_a), ("B", diff.b, diff.only_in_b)):
        counts = f"{side.errors} error(s), {side.warnings} warning(s)"
        if not only:
            console.print(f"only in {label} ({side.file}; {counts}): no diagnostics")
            continue
        console.print(f"only in {label} ({side.file}; {counts}):", highlight=False)
        print_diagnostics(console, only, None)
