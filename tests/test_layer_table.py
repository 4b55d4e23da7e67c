"""The default layer table: one row per statement, instance, loose group and aux head, and
every parameter in exactly one row."""

from __future__ import annotations

from pathlib import Path

import pytest

from netspec.analysis.report import Report
from netspec.api import check_file
from netspec.render import compact_rows
from tests.helpers import CLASSIFIER, clean, header, snippet


def assert_rows_add_up(report: Report) -> None:
    rows = compact_rows(report)
    assert report.totals is not None
    assert sum(row.params for row in rows) == report.totals.params_with_aux
    assert sum(row.macs for row in rows) == report.totals.macs + report.totals.aux_macs
    named = [row.name for row in rows]
    assert len(named) == len(set(named))


@pytest.mark.parametrize("spec", sorted(Path("specs").rglob("*.ns")), ids=str)
def test_rows_add_up_on_every_shipped_spec(spec: Path) -> None:
    assert_rows_add_up(check_file(spec))


def test_a_module_with_a_conv_before_its_branch_group_is_one_row() -> None:
    body = snippet("""
        module fire(s, e):
          conv 1x1 s
          branch: conv 1x1 e
          branch: conv 3x3 e
        fire f2 s=16 e=64
        """)
    report = clean(body + CLASSIFIER, header(16, 16, 8))
    rows = {row.name: row for row in compact_rows(report)}
    squeeze, expand = 8 * 16 + 16, 16 * 64 + 64 + 9 * 16 * 64 + 64
    assert (rows["f2"].params, rows["f2"].count) == (squeeze + expand, 4)  # with the concat
    assert_rows_add_up(report)


def test_a_loose_group_is_one_row_with_its_branches_parameters() -> None:
    body = "branch: conv 1x1 8\nbranch: conv 3x3 8 bn\n"
    report = clean(body + CLASSIFIER, header(16, 16, 8))
    rows = {row.name: row for row in compact_rows(report)}
    assert rows["g1/concat"].params == (8 * 8 + 8) + (9 * 8 * 8 + 4 * 8)
    assert rows["g1/concat"].count == 3
    assert_rows_add_up(report)


def test_a_statement_lowered_to_several_nodes_is_one_row_of_its_own_kind() -> None:
    report = clean("conv 3x3 8 bn\n" + CLASSIFIER, header(16, 16, 8))
    (conv,) = [row for row in compact_rows(report) if row.name == "conv1"]
    assert (conv.kind, conv.count, conv.params) == ("conv", 1, 9 * 8 * 8 + 4 * 8)
