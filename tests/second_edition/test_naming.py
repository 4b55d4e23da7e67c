"""Names and carets the first edition got wrong (issue: naming and caret faults)."""

from __future__ import annotations

from tests.helpers import CLASSIFIER, check, clean, header, snippet, where


def test_inception_inside_repeat_gets_a_suffix_like_a_module_instance() -> None:
    report = clean("repeat 2:\n  inception x 16/16-16/8-8/8\n" + CLASSIFIER, header(16, 16, 8))
    assert [row.name for row in report.layers if row.name in ("x_1", "x_2")] == ["x_1", "x_2"]


def test_a_duplicate_instance_name_points_at_the_instance_that_took_it_first() -> None:
    body = snippet("""
        module m:
          conv 1x1 8
          conv 1x1 8
        m a
        m a
        """)
    (duplicate,) = check(body + CLASSIFIER).diagnostics
    assert (duplicate.code, duplicate.line, duplicate.column) == ("duplicate-name", 8, 3)
    assert duplicate.message == "the name 'a' is already used (line 7)"


def test_an_empty_branch_points_at_its_own_line() -> None:
    body = "branch:\nbranch: conv 1x1 8\n"
    (empty,) = check(body + CLASSIFIER).diagnostics
    assert (empty.code, empty.line, empty.column) == ("syntax", 4, 7)
    assert empty.message == "`branch:` opens a block with nothing in it"


def test_an_empty_block_at_the_end_of_the_file() -> None:
    assert where(check("conv 1x1 8\nbranch:\n").diagnostics) == [("syntax", 5, 7)]
