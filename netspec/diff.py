"""`netspec diff`: two reports compared section by section and statement by statement.

The rows are the check table's own (`compact_rows`: one per trunk statement, instance,
loose group and aux head), aligned by section and row name; the figures are the report's.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from netspec.analysis.report import Report, Totals
from netspec.diagnostics import Diagnostic
from netspec.render import Row, compact_rows

# Bumped when a field changes name, place or meaning; new fields do not bump it.
DIFF_SCHEMA_VERSION: Literal[1] = 1

Status = Literal["same", "changed", "added", "removed"]
Key = TypeVar("Key", bound=Hashable)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Figures(Frozen):
    """A row (or a section) on one side, in the check report's own terms."""

    kind: str = Field(description="The statement's word, `aux head`, or `section`.")
    line: int = Field(description="The row's line; a section's is its first row's.")
    output: tuple[int, int, int] = Field(description="Height, width, channels (1, 1, n if flat).")
    flat: bool = Field(description="A vector (after flatten, gap or dense), not a map.")
    params: int
    macs: int
    receptive_field: tuple[int, int]


class Change(Frozen):
    """B's figures against A's: true where the grid differs, B minus A for the counts."""

    grid: bool = Field(description="The output's height or width differs.")
    channels: int
    params: int
    macs: int
    receptive_field: tuple[int, int]


class RowDiff(Frozen):
    name: str = Field(description="The check table's row: a statement, instance or aux head.")
    status: Status = Field(
        description="added: only in B; removed: only in A; changed: any figure differs."
    )
    a: Figures | None
    b: Figures | None
    change: Change | None = Field(description="null unless the row is on both sides.")


class SectionDiff(Frozen):
    """A section's figures: its rows' parameters and multiply-adds added up (aux heads
    left out, as the totals leave them), the output and receptive field of its last row."""

    name: str = Field(description="As the layers carry it in `section`; empty outside any.")
    status: Status = Field(
        description="added, removed, or changed where its figures or any of its rows differ."
    )
    a: Figures | None
    b: Figures | None
    change: Change | None
    rows: tuple[RowDiff, ...]


class Count(Frozen):
    a: int | None
    b: int | None
    change: int | None = Field(description="B minus A; null where either is unknown.")


class TotalsDiff(Frozen):
    params: Count = Field(description="The inference model (aux heads dropped).")
    aux_params: Count
    macs: Count


class Side(Frozen):
    file: str
    network: str | None = Field(description="null when the spec does not parse or lower.")
    input: tuple[int, int, int] | None
    classes: int | None
    errors: int
    warnings: int


class NetworkDiff(Frozen):
    """What `netspec diff --json` prints: B against A."""

    schema_version: Literal[1] = DIFF_SCHEMA_VERSION
    a: Side
    b: Side
    sections: tuple[SectionDiff, ...]
    totals: TotalsDiff
    only_in_a: tuple[Diagnostic, ...] = Field(
        description="A's diagnostics that B has not (same code about none of the same layers)."
    )
    only_in_b: tuple[Diagnostic, ...]


def diff_reports(a: Report, b: Report) -> NetworkDiff:
    """B against A: their check table rows by section and name, the totals, and the
    diagnostics one has and the other has not."""
    sections_a, sections_b = _sections(a), _sections(b)
    return NetworkDiff(
        a=_side(a),
        b=_side(b),
        sections=tuple(
            _section_diff(name, sections_a.get(name, []), sections_b.get(name, []))
            for name in aligned(list(sections_a), list(sections_b))
        ),
        totals=_totals(a, b),
        only_in_a=_unmatched(a.diagnostics, b.diagnostics),
        only_in_b=_unmatched(b.diagnostics, a.diagnostics),
    )


def _section_diff(name: str, rows_a: list[Row], rows_b: list[Row]) -> SectionDiff:
    figures_a = {row.name: _figures(row) for row in rows_a}
    figures_b = {row.name: _figures(row) for row in rows_b}
    rows = tuple(
        _row_diff(row, figures_a.get(row), figures_b.get(row))
        for row in aligned(list(figures_a), list(figures_b))
    )
    summary_a, summary_b = _summary(rows_a), _summary(rows_b)
    return SectionDiff(
        name=name,
        status=_status(summary_a, summary_b, rows),
        a=summary_a,
        b=summary_b,
        change=_change(summary_a, summary_b),
        rows=rows,
    )


def _row_diff(name: str, a: Figures | None, b: Figures | None) -> RowDiff:
    return RowDiff(name=name, status=_status(a, b), a=a, b=b, change=_change(a, b))


def aligned(a: Sequence[Key], b: Sequence[Key]) -> list[Key]:
    """A's order, with each of B's own keys placed after the key it follows in B."""
    merged = list(a)
    known = set(a)
    for index, key in enumerate(b):
        if key not in known:
            merged.insert(merged.index(b[index - 1]) + 1 if index else 0, key)
            known.add(key)
    return merged


def _sections(report: Report) -> dict[str, list[Row]]:
    """The rows by section, as the check table groups them: an aux head's row stays in
    the section of the row before it."""
    sections: dict[str, list[Row]] = {}
    section = ""
    for row in compact_rows(report):
        if not row.layer.aux:
            section = row.layer.section
        sections.setdefault(section, []).append(row)
    return sections


def _figures(row: Row) -> Figures:
    layer = row.layer
    return Figures(
        kind=row.kind,
        line=row.line,
        output=layer.output,
        flat=layer.flat,
        params=row.params,
        macs=row.macs,
        receptive_field=layer.receptive_field,
    )


def _summary(rows: list[Row]) -> Figures | None:
    """None where the side has no such section (every section a side has starts with a
    row that is not an aux head's)."""
    counted = [row for row in rows if not row.layer.aux]
    if not counted:
        return None
    last = counted[-1].layer
    return Figures(
        kind="section",
        line=rows[0].line,
        output=last.output,
        flat=last.flat,
        params=sum(row.params for row in counted),
        macs=sum(row.macs for row in counted),
        receptive_field=last.receptive_field,
    )


def _status(a: Figures | None, b: Figures | None, rows: tuple[RowDiff, ...] = ()) -> Status:
    if a is None:
        return "added"
    if b is None:
        return "removed"
    return "changed" if _differs(a, b) or any(row.status != "same" for row in rows) else "same"


def _differs(a: Figures, b: Figures) -> bool:
    exclude = {"kind", "line"}
    return a.model_dump(exclude=exclude) != b.model_dump(exclude=exclude)


def _change(a: Figures | None, b: Figures | None) -> Change | None:
    if a is None or b is None:
        return None
    return Change(
        grid=a.output[:2] != b.output[:2] or a.flat != b.flat,
        channels=b.output[2] - a.output[2],
        params=b.params - a.params,
        macs=b.macs - a.macs,
        receptive_field=(
            b.receptive_field[0] - a.receptive_field[0],
            b.receptive_field[1] - a.receptive_field[1],
        ),
    )


def _count(a: int | None, b: int | None) -> Count:
    return Count(a=a, b=b, change=None if a is None or b is None else b - a)


def _totals(a: Report, b: Report) -> TotalsDiff:
    def total(report: Report, figure: Callable[[Totals], int | None]) -> int | None:
        return None if report.totals is None else figure(report.totals)

    return TotalsDiff(
        params=_count(total(a, lambda t: t.params), total(b, lambda t: t.params)),
        aux_params=_count(total(a, lambda t: t.aux_params), total(b, lambda t: t.aux_params)),
        macs=_count(total(a, lambda t: t.macs), total(b, lambda t: t.macs)),
    )


def _side(report: Report) -> Side:
    lowered = bool(report.layers)
    errors = sum(d.is_error for d in report.diagnostics)
    return Side(
        file=report.file,
        network=report.network if lowered else None,
        input=report.input if lowered else None,
        classes=report.classes if lowered else None,
        errors=errors,
        warnings=len(report.diagnostics) - errors,
    )


def same_finding(one: Diagnostic, other: Diagnostic) -> bool:
    """Two specs (or sizes) say the same thing when the code is the same about one of the
    same layers; the message's figures and the line may differ. Without layers, the
    message must match."""
    if one.code != other.code:
        return False
    if one.layers or other.layers:
        return not set(one.layers).isdisjoint(other.layers)
    return one.message == other.message


def _unmatched(
    diagnostics: tuple[Diagnostic, ...], others: tuple[Diagnostic, ...]
) -> tuple[Diagnostic, ...]:
    return tuple(d for d in diagnostics if not any(same_finding(d, o) for o in others))
