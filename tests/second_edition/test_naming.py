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


def test_an_instance_named_like_a_generated_keras_name_is_a_duplicate() -> None:
    # `stem/conv1` is the Keras layer `stem_conv1`: Keras writes `/` as `_`.
    body = snippet("""
        module m:
          conv 1x1 8
        stem:
          conv 1x1 8
          m stem_conv1
        """)
    (duplicate,) = check(body + CLASSIFIER).diagnostics
    assert (duplicate.file, duplicate.code, duplicate.line, duplicate.column) == (
        "t.ns",
        "duplicate-name",
        8,
        3,
    )
    assert duplicate.is_error
    assert "'stem_conv1' and 'stem/conv1' (line 7)" in duplicate.message


def test_a_keras_name_clash_is_one_error_at_the_later_statement() -> None:
    # The instance's conv, batch norm and activation each clash with the head's: one error,
    # at the head's conv, written after the instance.
    body = snippet("""
        module m:
          conv 1x1 8 bn
        m head_conv1
        head:
          conv 1x1 8 bn
          gap
          dense classes
        """)
    (duplicate,) = check(body).diagnostics
    assert (duplicate.code, duplicate.line, duplicate.column) == ("duplicate-name", 8, 3)
    assert "'head/conv1' and 'head_conv1' (line 6)" in duplicate.message
