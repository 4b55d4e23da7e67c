"""`netspec sweep`'s tables: the verdicts counted by reason, the valid configurations by
multiply-adds, and the Pareto front of parameters against multiply-adds."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from netspec.lowering.search import values_text
from netspec.render import si
from netspec.sweep import Configuration, Sweep


def print_sweep(console: Console, result: Sweep, *, limit: int | None = None) -> None:
    size = "x".join(map(str, result.input))
    console.print(
        f"{result.file}: {result.size:,} configuration(s) at {size}: {result.valid:,} valid, "
        f"{result.size - result.valid:,} rejected",
        highlight=False,
    )
    if result.rejected:
        reasons = Table(title="rejected, by reason", title_justify="left", header_style="bold")
        reasons.add_column("reason")
        reasons.add_column("configurations", justify="right")
        for reason, count in result.rejected.items():
            reasons.add_row(reason, f"{count:,}")
        console.print(reasons)
    valid = result.valid_by_macs()
    if not valid:
        return
    shown = valid if limit is None else valid[:limit]
    more = f" (the first {len(shown):,} of {len(valid):,})" if len(shown) < len(valid) else ""
    console.print(_table(f"valid, by multiply-adds{more}", shown))
    front = [c for c in valid if c.values in result.pareto_front]
    console.print(_table("Pareto front: parameters against multiply-adds", front))


def _table(title: str, configurations: list[Configuration]) -> Table:
    table = Table(title=title, title_justify="left", header_style="bold")
    table.add_column("configuration")
    for column in ("params", "MACs", "activations", "smallest grid"):
        table.add_column(column, justify="right")
    for configuration in configurations:
        grid = configuration.smallest_grid
        table.add_row(
            values_text(configuration.values),
            f"{configuration.total_params or 0:,}",
            si(configuration.total_macs or 0),
            si(configuration.activation_bytes, "B") if configuration.activation_bytes else "-",
            f"{grid[0]}x{grid[1]}" if grid else "-",
        )
    return table
