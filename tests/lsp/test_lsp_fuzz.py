"""Mid-edit text, as the server sees it while someone types: a shipped spec with one line
cut, or a character dropped or added. Nothing raises, and every diagnostic's range lies
inside the buffer."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from netspec.api import check
from netspec.lsp.completion import completions
from netspec.lsp.diagnostics import lsp_diagnostics
from netspec.lsp.hover import hover_markdown
from netspec.lsp.modules import defined_modules, definition
from tests.helpers import SHIPPED_SPECS

TEXTS = [spec.read_text() for spec in SHIPPED_SPECS]
TYPED = " :->=/x0123abc\t#(),"


@st.composite
def edited(draw: st.DrawFn) -> tuple[str, int, int]:
    """A spec with one line edited, and a cursor on that line."""
    lines = draw(st.sampled_from(TEXTS)).split("\n")
    index = draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    cut = draw(st.integers(0, len(line)))
    match draw(st.sampled_from(["drop", "add", "cut"])):
        case "drop":
            line = line[:cut] + line[cut + 1 :]
        case "add":
            line = line[:cut] + draw(st.sampled_from(TYPED)) + line[cut:]
        case _:
            line = line[:cut]
    lines[index] = line
    return "\n".join(lines), index, draw(st.integers(0, len(line)))


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(edited())
def test_the_server_s_functions_survive_any_edit(case: tuple[str, int, int]) -> None:
    text, line, character = case
    lines = text.split("\n")
    checked = check(text, "edit.ns")
    report = checked.report
    for problem in lsp_diagnostics(report, text):
        start, end = problem.range.start, problem.range.end
        assert 0 <= start.line == end.line < len(lines)
        assert 0 <= start.character <= end.character <= len(lines[start.line])
    modules = {} if checked.spec is None else defined_modules(checked.spec)
    hover_markdown(report, line + 1)
    completions(text, line, character, modules)
    definition(modules, lines[line], character)
