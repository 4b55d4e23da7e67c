"""The second edition's errors, each at its line and column, and "did you mean"."""

from __future__ import annotations

import pytest

from tests.helpers import CLASSIFIER, check, header, where

CASES = [
    # code, snippet, the position of the caret
    ("add-mismatch", "branch: conv 1x1 16\nbranch: identity\nmerge add\n", (4, 1)),
    ("add-mismatch", "branch: conv 3x3/2 8\nbranch: identity\nmerge add relu\n", (4, 1)),
    ("mul-mismatch", "branch: identity\nbranch: gap -> dense 4 sigmoid\nmerge mul\n", (4, 1)),
    ("mul-mismatch", "branch: identity\nbranch: conv 3x3/2 8\nmerge mul\n", (4, 1)),
    ("groups-mismatch", "conv 3x3 16 groups=3\n", (4, 1)),
    ("groups-mismatch", "conv 3x3 9 groups=4\n", (4, 1)),
    ("invalid-value", "dwconv 3x3 mult=0\n", (4, 17)),
    ("invalid-value", "avgpool to 16x16\n", (4, 1)),
    ("invalid-value", "pad 1,2\n", (4, 1)),
    ("invalid-value", "pad 1.5\n", (4, 5)),
    ("invalid-value", "conv 3x3 8 groups=0\n", (4, 19)),
    ("unknown-option", "dwconv 3x3 groups=2\n", (4, 12)),
    ("unknown-option", "identity same\n", (4, 10)),
    ("unknown-option", "merge add scale=2\n", None),  # a stray merge: see below
]


@pytest.mark.parametrize(
    ("code", "body", "at"), [c for c in CASES if c[2]], ids=[c[1] for c in CASES if c[2]]
)
def test_second_edition_error(code: str, body: str, at: tuple[int, int]) -> None:
    assert where(check(body + CLASSIFIER, header(8, 8, 8)).diagnostics) == [(code, *at)]


def test_mismatch_messages_name_both_shapes() -> None:
    (add,) = check(
        "branch: conv 1x1 16\nbranch: identity\nmerge add\n" + CLASSIFIER, header(8, 8, 8)
    ).diagnostics
    assert "8x8x16, 8x8x8" in add.message
    (mul,) = check(
        "branch: identity\nbranch: gap -> dense 4 sigmoid\nmerge mul\n" + CLASSIFIER,
        header(8, 8, 8),
    ).diagnostics
    assert "8x8x8, 4" in mul.message


@pytest.mark.parametrize(
    ("body", "code", "at", "message", "suggestion"),
    [
        (
            "dwconv2 3x3\n",
            "unknown-module",
            (4, 1),
            "unknown layer or module 'dwconv2'",
            "did you mean `dwconv`?",
        ),
        ("relu7\n", "unknown-module", (4, 1), "unknown layer or module 'relu7'", "`relu`"),
        ("conv 3x3 8 reluu\n", "unknown-option", (4, 12), "unknown option 'reluu'", "`relu`"),
        ("conv 3x3 8 grups=2\n", "unknown-option", (4, 12), "unknown option 'grups'", "`groups`"),
        (
            "branch: identity\nbranch: conv 1x1 8\nmerge ad\n",
            "unknown-merge",
            (6, 7),
            "unknown merge 'ad'",
            "`add`",
        ),
        (
            "module m(width):\n  conv 1x1 width\nm a widht=8\n",
            "unknown-argument",
            (6, 5),
            "no parameter 'widht'",
            "`width`",
        ),
        (
            "module m(width):\n  conv 1x1 widht\nm a width=8\n",
            "unknown-parameter",
            (5, 12),
            "unknown parameter 'widht'",
            "`width`",
        ),
        (
            "train:\n  epoch 10\n",
            "unknown-setting",
            (5, 3),
            "unknown training setting 'epoch'",
            "`epochs`",
        ),
        (
            "train:\n  dataset cifar1000\n",
            "unknown-dataset",
            (5, 11),
            "unknown dataset 'cifar1000'",
            "`cifar100`",
        ),
        ("defaults:\n  cnov relu\n", "unknown-setting", (5, 3), "no defaults for 'cnov'", "`conv`"),
    ],
)
def test_unknown_words_get_the_nearest_known_one(
    body: str, code: str, at: tuple[int, int], message: str, suggestion: str
) -> None:
    (diagnostic,) = check(body + CLASSIFIER).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == (code, *at)
    assert message in diagnostic.message
    assert diagnostic.hint is not None and suggestion in diagnostic.hint


def test_no_suggestion_when_nothing_is_close() -> None:
    (diagnostic,) = check("zzzzqq 3x3\n" + CLASSIFIER).diagnostics
    assert diagnostic.hint is not None and "did you mean" not in diagnostic.hint


def test_an_instance_with_words_a_module_does_not_take() -> None:
    (diagnostic,) = check("module m:\n  conv 1x1 8\nm a 3x3\n" + CLASSIFIER).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("syntax", 6, 5)
