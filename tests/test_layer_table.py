"""The default layer table: one row per statement, instance, loose group and aux head, and
every parameter in exactly one row."""

from __future__ import annotations

from pathlib import Path

import pytest

from netspec.analysis.report import Report, SectionReport
from netspec.api import check_file
from netspec.render import compact_rows
from tests.helpers import CLASSIFIER, FIRST_BODY_LINE, check, clean, header, snippet


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


def test_a_section_named_like_a_group_shows_its_statements_and_its_output() -> None:
    body = snippet("""
        stage g2:
          conv 3x3 8
          conv 3x3 16
          maxpool 2x2/2
        """)
    report = clean(body + CLASSIFIER, header(16, 16, 8))
    rows = [row for row in compact_rows(report) if row.layer.section == "g2"]
    assert [(row.name, row.count, row.layer.output) for row in rows] == [
        ("g2/conv1", 1, (16, 16, 8)),
        ("g2/conv2", 1, (16, 16, 16)),
        ("g2/maxpool1", 1, (8, 8, 16)),  # the section's output, as any section's last row
    ]


FIRE = snippet("""
    module fire(s, e):
      conv 1x1 s
      branch: conv 1x1 e
      branch: conv 3x3 e
    stage 2:
      fire f2 s=4 e=8
      branch: conv 1x1 8
      branch: conv 3x3 8
    """)


def test_each_layer_carries_its_section_loose_group_instance_and_module() -> None:
    report = clean(FIRE + CLASSIFIER, header(16, 16, 8))
    layers = {layer.name: layer for layer in report.layers}

    def place(name: str) -> tuple[str, str, str, str]:
        layer = layers[name]
        return layer.section, layer.group, layer.instance, layer.module

    assert place("f2/conv1") == ("stage2", "", "f2", "fire")
    # A group inside an instance is the instance's; the instance's output carries its name.
    assert place("f2/b2/conv1") == ("stage2", "", "f2", "fire")
    assert place("f2") == ("stage2", "", "f2", "fire")
    assert place("stage2/g1/b1/conv1") == ("stage2", "stage2/g1/concat", "", "")
    assert place("stage2/g1/concat") == ("stage2", "stage2/g1/concat", "", "")
    assert place("gap1") == ("", "", "", "")
    assert report.sections == (
        SectionReport(name="stage2", header="stage 2", line=FIRST_BODY_LINE + 4),
    )
    rows = {row.name: row.count for row in compact_rows(report)}
    assert rows == {"input": 1, "f2": 4, "stage2/g1/concat": 3, "gap1": 1, "dense1": 1}


def test_an_instance_that_cannot_be_built_shows_what_was_built_statement_by_statement() -> None:
    # At 2x2 the 3x3 valid conv of the second instance's body cannot slide.
    body = snippet("""
        module down(w):
          conv 1x1 w
          conv 3x3 w valid
        down d1 w=4
        down d2 w=4
        """)
    report = check(body + CLASSIFIER, header(4, 4, 3))
    assert [d.code for d in report.diagnostics] == ["window-too-large"]
    rows = [row.name for row in compact_rows(report)]
    assert rows == ["input", "d1", "d2/conv1"]
