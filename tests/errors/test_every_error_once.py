"""One `check` says every error it can find, and each mistake once.

Snippets follow a 3-line header, so their first line is line 4.
"""

from __future__ import annotations

import pytest

from tests.helpers import CLASSIFIER, check, diagnose


@pytest.mark.parametrize(
    "words",
    ["crop 1,0,1,0", "crop 1, 0", "crop 1;0", "crop (1,1)", "crop 1,0 -> conv 1x1 8"],
)
def test_an_unknown_word_is_an_unknown_layer_whatever_follows(words: str) -> None:
    (unknown,) = check(f"conv 3x3 8\n{words}\n" + CLASSIFIER).diagnostics
    assert (unknown.code, unknown.line, unknown.column) == ("unknown-module", 5, 1)
    assert unknown.message == "unknown layer or module 'crop'"


def test_a_mark_after_a_module_instance_is_named_as_its_mistake() -> None:
    (stray,) = check("module m(w):\n  conv 1x1 w\nm a, w=8\n" + CLASSIFIER).diagnostics
    assert (stray.code, stray.line, stray.column) == ("syntax", 6, 4)
    assert stray.message.startswith("unexpected ',': an instance of module 'm'")


def test_an_unknown_layer_does_not_hide_a_shape_error_on_another_line() -> None:
    assert diagnose("conv 3x3 8\ndense 10\nlayernorm2\n" + CLASSIFIER) == [
        ("dense-needs-flat", 5, 1),
        ("unknown-module", 6, 1),
    ]


def test_a_shape_error_in_another_branch_is_still_found() -> None:
    body = "branch: crop 1,0\nbranch: conv 3x3 8 -> dense 4\n" + CLASSIFIER
    assert diagnose(body) == [("unknown-module", 4, 9), ("dense-needs-flat", 5, 23)]


def test_an_unknown_layer_mid_trunk_is_one_error_not_one_per_later_layer() -> None:
    # Every later layer would fail (`dense` on a map, the head's shape) if the analysis
    # went on as though the unknown word were not there; it says only the unknown word.
    body = "conv 3x3 8\ncrop 1,0\nconv 3x3 8\nmaxpool 3x3/2\ndense 10\nconv 3x3 8\ndense classes\n"
    assert diagnose(body) == [("unknown-module", 5, 1)]


def test_statements_after_an_unknown_layer_still_say_their_own_mistakes() -> None:
    body = "conv 3x3 8\ncrop 1,0\nconv 3x3 8 bogus\n" + CLASSIFIER
    assert diagnose(body) == [("unknown-module", 5, 1), ("unknown-option", 6, 12)]


def test_a_failing_module_body_is_one_error_for_all_its_instances() -> None:
    body = "module m:\n  conv 1x1 8\n  crop 1\nm a\nm b\nm c\n" + CLASSIFIER
    assert diagnose(body) == [("unknown-module", 6, 3)]


def test_a_failed_aux_head_leaves_the_trunk_to_be_checked() -> None:
    body = "conv 3x3 8\naux a:\n  crop 1\n  dense classes\nconv 3x3 8\ndense 10\n" + CLASSIFIER
    assert diagnose(body) == [("unknown-module", 6, 3), ("dense-needs-flat", 9, 1)]
