"""The `search:` section (design/language.md, "Third edition: search spaces"): how it reads,
prints back, lowers as spec-level parameters, and what is wrong with a bad one."""

from __future__ import annotations

import pytest

from netspec.api import check, check_text
from netspec.diagnostics import Diagnostic
from netspec.formatting import format_text
from netspec.lowering.search import concrete, read_space
from netspec.syntax import ast
from netspec.syntax.parser import parse
from netspec.syntax.printer import print_spec
from tests.helpers import HEADER

# The language page's example, with a head.
SPACE = (
    HEADER
    + """
search:
  s = 1 | 2                           # a choice of numbers
  w = 32..128 step 32                 # a range
  n = 1..3
  params <= 5M                        # budgets
  macs <= 800M

stem:
  conv 3x3/s w
  repeat n:
    inception x w/96-128/16-32/32

head:
  gap
  dense classes
"""
)


def errors(text: str) -> list[Diagnostic]:
    return [d for d in check_text(text).diagnostics if d.is_error]


def codes(text: str) -> list[str]:
    return [d.code for d in errors(text)]


def test_choices_ranges_and_budgets_read_as_written() -> None:
    space, problems = read_space(parse(SPACE), "<spec>")
    assert problems == [] and space is not None
    assert space.choices == (("s", (1, 2)), ("w", (32, 64, 96, 128)), ("n", (1, 2, 3)))
    assert [(b.measure, b.value) for b in space.budgets] == [("params", 5e6), ("macs", 8e8)]
    assert space.size == 2 * 4 * 3 == len(list(space.configurations()))
    assert space.first() == {"s": 1, "w": 32, "n": 1}


def test_suffixes_k_m_g() -> None:
    text = SPACE.replace("macs <= 800M", "macs <= 1.5G\n  activations <= 40k")
    space, _ = read_space(parse(text), "<spec>")
    assert space is not None
    assert [b.value for b in space.budgets] == [5e6, 1.5e9, 4e4]


def test_check_lowers_the_first_configuration_and_notes_the_size() -> None:
    checked = check(SPACE)
    assert checked.spec is not None and checked.network is not None
    first = concrete(checked.spec, {"s": 1, "w": 32, "n": 1})
    alone = check_text(print_spec(first))
    assert checked.report.totals == alone.totals
    # Another configuration differs: the first is the one checked.
    other = check_text(print_spec(concrete(checked.spec, {"s": 2, "w": 128, "n": 3})))
    assert other.totals != alone.totals
    (note,) = checked.report.diagnostics
    assert (note.code, note.severity.value, note.line) == ("search-space", "note", 5)
    assert "24 configuration(s)" in note.message and "s=1 w=32 n=1" in note.message
    assert not checked.report.has_errors and not checked.report.has_warnings


def test_a_bound_name_reaches_module_bodies_defaults_and_arguments() -> None:
    text = (
        HEADER
        + """
search:
  k = 3 | 5
  w = 8 | 16

module block(c):
  conv (k)x(k) c
  conv 1x1 w

stem:
  block b1 c=(w*2)
  block b2 c=w

head:
  gap
  dense classes
"""
    )
    network = check(text).network
    assert network is not None
    convs = [layer for layer in network.layers if layer.kind == "conv"]
    assert [(c.kernel, c.filters) for c in convs] == [
        ((3, 3), 16),
        ((1, 1), 8),
        ((3, 3), 8),
        ((1, 1), 8),
    ]


def test_fmt_keeps_the_section_and_is_idempotent() -> None:
    formatted = format_text(SPACE)
    assert "search:\n  s = 1 | 2" in formatted
    assert "  w = 32..128 step 32" in formatted and "  params <= 5M" in formatted
    assert format_text(formatted) == formatted
    messy = SPACE.replace("s = 1 | 2", "s=1|2").replace("32..128 step 32", "32 .. 128  step  32")
    assert format_text(messy) == formatted


def test_a_configuration_written_out_has_numbers_and_no_search_section() -> None:
    spec = parse(SPACE)
    text = print_spec(concrete(spec, {"s": 2, "w": 64, "n": 3}))
    assert "search" not in text and "budgets" not in text and "a range" not in text
    assert "conv 3x3/2 64" in text and "repeat 3:" in text
    assert "inception x 64/96-128/16-32/32" in text
    assert read_space(parse(text), "<spec>") == (None, [])


def test_expressions_are_rewritten_with_their_values() -> None:
    text = HEADER + "search:\n  w = 8 | 16\nconv 3x3 (w*2+1)\ngap\ndense classes\n"
    written = print_spec(concrete(parse(text), {"w": 16}))
    assert "conv 3x3 (16*2+1)" in written
    network = check(written).network
    assert network is not None
    assert [layer.filters for layer in network.layers if layer.kind == "conv"] == [33]


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        ("w = 8..4", "invalid-value", "empty"),
        ("w = 4..8 step 0", "invalid-value", "step"),
        ("params <= 0", "invalid-value", "budget"),
        ("flops <= 1G", "unknown-budget", "flops"),
    ],
)
def test_a_bad_line_is_an_error_at_it(line: str, code: str, words: str) -> None:
    text = HEADER + f"search:\n  x = 8 | 16\n  {line}\nconv 3x3 x\ngap\ndense classes\n"
    (problem,) = errors(text)
    assert (problem.code, problem.line) == (code, 6)
    assert words in problem.message


def test_an_unknown_budget_gets_a_suggestion() -> None:
    text = HEADER + "search:\n  x = 8 | 16\n  mac <= 1G\nconv 3x3 x\ngap\ndense classes\n"
    (problem,) = errors(text)
    assert problem.hint is not None and "did you mean `macs`?" in problem.hint


def test_an_unused_name() -> None:
    text = HEADER + "search:\n  x = 8 | 16\n  y = 1..2\nconv 3x3 x\ngap\ndense classes\n"
    (problem,) = errors(text)
    assert (problem.code, problem.line) == ("search-unused", 6)
    assert "'y'" in problem.message


def test_a_module_parameter_that_shadows_a_name() -> None:
    text = (
        HEADER
        + "search:\n  w = 8 | 16\nmodule m(w):\n  conv 3x3 w\n"
        + "stem:\n  m a w=w\ngap\ndense classes\n"
    )
    assert codes(text) == ["search-shadow"]
    (problem,) = errors(text)
    assert problem.line == 6


def test_a_misspelt_name_in_the_body_is_suggested() -> None:
    text = (
        HEADER + "search:\n  width = 8 | 16\nconv 3x3 width\nconv 3x3 widht\ngap\ndense classes\n"
    )
    (problem,) = errors(text)
    assert problem.code == "unknown-parameter" and problem.line == 7
    assert problem.hint is not None and "`width`" in problem.hint


def test_a_name_bound_twice() -> None:
    text = HEADER + "search:\n  w = 8 | 16\n  w = 1..2\nconv 3x3 w\ngap\ndense classes\n"
    assert codes(text) == ["duplicate-parameter"]


def test_the_section_parses_at_the_top_level_only() -> None:
    spec = parse(SPACE)
    assert sum(isinstance(s, ast.SearchBlock) for s in spec.statements) == 1
