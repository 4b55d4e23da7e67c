"""The functions behind the language server, without the protocol: where a diagnostic
sits, what a hover says, where a module is defined, what completion offers."""

from __future__ import annotations

import re

from lsprotocol import types

from netspec.api import check, check_text
from netspec.diagnostics import error
from netspec.lowering.words import ACTIVATIONS, STATEMENT_WORDS
from netspec.lsp.completion import completions
from netspec.lsp.diagnostics import caret_range, lsp_diagnostics
from netspec.lsp.hover import MOST_ROWS, hover_markdown
from netspec.lsp.modules import Module, defined_modules, definition, word_at
from tests.helpers import CIFAR_TRIMMED, GOOGLENET, snippet

MODULE_SPEC = snippet(
    """
    network t
    input 32x32x3
    classes 10
    module block(w, s=1):
      conv 3x3/s w
      conv 1x1 w bn
    block b1 w=16
    block b2 w=32 s=2
    gap
    dense classes
    """
)


def at(range_: types.Range) -> tuple[int, int, int, int]:
    return range_.start.line, range_.start.character, range_.end.line, range_.end.character


def modules_in(text: str) -> dict[str, Module]:
    """As the server finds them: the modules of the text's syntax tree, if it parses."""
    spec = check(text).spec
    return {} if spec is None else defined_modules(spec)


def labels(text: str, line: int, character: int, modules_from: str | None = None) -> list[str]:
    """Completion at a cursor; a line being typed rarely parses, so the server keeps the
    modules of the last text that did: `modules_from`."""
    modules = modules_in(modules_from or text)
    return [item.label for item in completions(text, line, character, modules)]


# Diagnostics


def test_a_diagnostic_spans_the_token_at_its_column() -> None:
    lines = ["network t", "  conv 3x3/2 64 vallid"]
    assert at(caret_range(error("x", "m", "f", 2, 3), lines)) == (1, 2, 1, 6)
    assert at(caret_range(error("x", "m", "f", 2, 8), lines)) == (1, 7, 1, 12)  # 3x3/2
    assert at(caret_range(error("x", "m", "f", 2, 17), lines)) == (1, 16, 1, 22)


def test_a_diagnostic_without_a_place_or_past_the_buffer_sits_at_the_start() -> None:
    lines = ["network t"]
    assert at(caret_range(error("x", "m"), lines)) == (0, 0, 0, 0)
    assert at(caret_range(error("x", "m", "f", 7, 1), lines)) == (0, 0, 0, 0)
    # A column past the end of an edited line stays on the line, empty.
    assert at(caret_range(error("x", "m", "f", 1, 40), lines)) == (0, 9, 0, 9)


def test_errors_and_warnings_keep_their_code_severity_and_hint() -> None:
    text = MODULE_SPEC.replace("conv 1x1 w bn", "conv 1x1 w bnn")
    [problem] = lsp_diagnostics(check_text(text, "t.ns"), text)
    assert problem.code == "unknown-option"
    assert problem.severity == types.DiagnosticSeverity.Error
    assert problem.source == "netspec"
    assert "did you mean `bn`?" in problem.message
    assert at(problem.range) == (5, 13, 5, 16)


# Hover


def test_hover_folds_a_statement_into_one_entry() -> None:
    text = CIFAR_TRIMMED.read_text()
    line = text.split("\n").index("stem:") + 2  # 1-based: the first conv of the stem
    markdown = hover_markdown(check_text(text), line)
    assert markdown is not None
    # conv 3x3 64 with bn on 3 channels: 3*3*3*64 weights, no bias; gamma, beta, mean, var.
    assert markdown.startswith("**stem/conv1** `conv`  \n")
    assert f"{3 * 3 * 3 * 64 + 4 * 64:,} params" in markdown
    assert "output 32x32x64" in markdown
    assert "_at input 32x32x3_" in markdown


def test_hover_in_a_module_body_shows_each_instance() -> None:
    markdown = hover_markdown(check_text(MODULE_SPEC), 5)
    assert markdown is not None
    entries = markdown.split("\n\n")
    assert entries[0].startswith("**b1/conv1**") and "output 32x32x16" in entries[0]
    assert entries[1].startswith("**b2/conv1**") and "output 16x16x32" in entries[1]


def test_hover_says_how_many_more_past_its_limit() -> None:
    text = CIFAR_TRIMMED.read_text()
    line = next(i for i, s in enumerate(text.split("\n"), 1) if "conv 1x1 r3 -> conv 3x3" in s)
    markdown = hover_markdown(check_text(text), line)
    assert markdown is not None
    # Nine instances, two statements on the line.
    assert markdown.count("**") // 2 == MOST_ROWS
    assert f"... and {9 * 2 - MOST_ROWS} more" in markdown


def test_hover_on_an_aux_head_and_inside_it() -> None:
    text = GOOGLENET.read_text()
    lines = text.split("\n")
    report = check_text(text)
    head = lines.index("  aux aux1 weight=0.3:") + 1
    heading = hover_markdown(report, head)
    assert heading is not None
    assert heading.startswith("**aux1** `aux head`") and "output a vector of 1,000" in heading
    inside = hover_markdown(report, head + 2)  # conv 1x1 128 on the 4x4 pooled map
    assert inside is not None
    assert inside.startswith("**aux1/conv1** `conv`") and "output 4x4x128" in inside


def test_section_headers_hover_with_totals_that_add_up_to_the_network_s() -> None:
    text = GOOGLENET.read_text()
    report = check_text(text)
    assert report.totals is not None
    headers = [
        (number, line)
        for number, line in enumerate(text.split("\n"), 1)
        if re.match(r"(stem|stage \d|head):", line)
    ]
    assert len(headers) == 5
    params = 0
    for number, _ in headers:
        markdown = hover_markdown(report, number)
        assert markdown is not None
        params += int(re.search(r"output .* · ([\d,]+) params", markdown)[1].replace(",", ""))
    # Every trunk parameter lies in one section; the aux heads are apart, as in the totals.
    assert params == report.totals.params
    stage4 = hover_markdown(report, headers[2][0])
    assert stage4 is not None
    assert stage4.startswith("**stage 4** `stage4`") and "output 7x7x832" in stage4


def test_no_hover_where_nothing_is_built() -> None:
    text = GOOGLENET.read_text()
    report = check_text(text)
    assert hover_markdown(report, 1) is None  # a comment
    defaults = text.split("\n").index("defaults:") + 1
    assert hover_markdown(report, defaults) is None


# Modules and definition


def test_modules_are_found_with_their_place_and_parameters() -> None:
    block = modules_in(MODULE_SPEC)["block"]
    assert (block.line, block.column) == (4, 8)
    assert block.signature == "module block(w, s=1)"
    # Mid-edit, the text does not parse: the server keeps the modules it had.
    assert check(MODULE_SPEC + "conv 3x3 (\n").spec is None


def test_definition_is_found_from_any_character_of_the_instance_word() -> None:
    modules = modules_in(MODULE_SPEC)
    line = "block b1 w=16"
    assert [definition(modules, line, i) is not None for i in range(len(line))] == [
        True, True, True, True, True, True, False, False, False, False, False, False, False,
    ]  # fmt: skip
    assert word_at("  conv 3x3/s w", 13) == "w"
    assert word_at("  conv", 0) is None


# Completion


def test_a_statement_starts_with_a_layer_word_a_keyword_or_a_module() -> None:
    offered = labels(MODULE_SPEC, 8, 0)
    assert set(STATEMENT_WORDS) <= set(offered)
    assert {"network", "module", "stage", "branch", "block"} <= set(offered)
    inside = labels(MODULE_SPEC, 4, 2)
    assert "branch" in inside and "network" not in inside and "conv" in inside


def test_after_a_layer_s_words_come_its_options() -> None:
    text = MODULE_SPEC.replace("conv 1x1 w bn", "conv 1x1 w ")
    offered = labels(text, 5, len("  conv 1x1 w "))
    assert set(offered) == {
        "same", "valid", "bn", "nobn", "bias", "nobias", "groups=", *ACTIVATIONS,
    }  # fmt: skip
    assert labels("maxpool 3x3/2 \n", 0, len("maxpool 3x3/2 ")) == ["same", "valid"]
    assert labels("maxpool \n", 0, len("maxpool ")) == []  # the window comes first


def test_a_width_in_a_module_may_be_a_parameter() -> None:
    text = MODULE_SPEC.replace("conv 1x1 w bn", "conv 1x1 ")
    assert labels(text, 5, len("  conv 1x1 "), modules_from=MODULE_SPEC) == ["w", "s"]
    assert labels(text, 5, len("  conv "), modules_from=MODULE_SPEC) == []  # a kernel first


def test_an_instance_takes_the_arguments_it_has_not_been_given() -> None:
    typed = MODULE_SPEC.replace("block b1 w=16", "block b1 w=16 ")
    assert labels(typed, 6, len("block b1 w=16 ")) == ["s="]
    # Arguments after the cursor count as given too.
    assert labels(MODULE_SPEC, 6, len("block b1 ")) == ["s="]
    assert labels(MODULE_SPEC, 6, len("block b1 w=1")) == []  # a value is being typed
    assert labels("block b1 w s=2\n", 0, len("block b1 w"), MODULE_SPEC) == ["w="]


def test_settings_blocks_complete_their_keys_and_choices() -> None:
    text = "network t\ntrain:\n  dataset \n  \ndefaults:\n  pool \n"
    assert "epochs" in labels(text, 3, 2)
    assert labels(text, 2, len("  dataset ")) == [
        "cifar10", "cifar100", "mnist", "fashion_mnist", "folder", "tfrecord", "synthetic",
    ]  # fmt: skip
    assert labels(text, 5, len("  pool ")) == ["same", "valid"]
    assert labels("merge \n", 0, len("merge ")) == ["concat", "residual", "add", "mul"]


def test_nothing_is_offered_in_a_comment() -> None:
    assert labels("conv 3x3 64  # \n", 0, len("conv 3x3 64  # ")) == []
