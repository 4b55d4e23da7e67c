"""The registry of layer words: every word has its IR class with a static rule, is offered
by completion with its options, and is the table docs/language.md shows; a word that takes
only options is one entry and nothing else."""

from __future__ import annotations

import typing

import pytest

from netspec.ir import GlobalAvgPool, Layer, LayerBase
from netspec.lowering import layers as lowering
from netspec.lowering.words import (
    LAYER_WORDS,
    Word,
    activation_table,
    defaults_options,
    reference_table,
)
from netspec.lsp.completion import completions
from tests.helpers import REPO, compile_errors, compile_spec

EXAMPLE_ARGUMENT = {"window": "3x3", "number": "8", "numbers": "1", "real": "0.5"}
IR_KINDS = set(typing.get_args(typing.get_args(Layer)[0]))


@pytest.mark.parametrize("entry", LAYER_WORDS.values(), ids=list(LAYER_WORDS))
def test_every_word_lowers_to_an_ir_kind_with_its_own_rule(entry: Word) -> None:
    for kind in filter(None, (entry.layer, entry.adaptive)):
        assert kind in IR_KINDS
        assert kind.facts is not LayerBase.facts
    assert entry.layer is not None or entry.word == "identity"


@pytest.mark.parametrize("entry", LAYER_WORDS.values(), ids=list(LAYER_WORDS))
def test_every_word_is_completed_with_its_options(entry: Word) -> None:
    starts = [item.label for item in completions("", 0, 0, {})]
    assert entry.word in starts
    line = " ".join([entry.word, *(EXAMPLE_ARGUMENT[a.reading] for a in entry.arguments)]) + " "
    offered = [item.label for item in completions(line, 0, len(line), {})]
    assert offered == [option.label for option in entry.options]


def test_bn_and_lrn_complete_their_options() -> None:
    assert [item.label for item in completions("bn ", 0, 3, {})] == [
        "scale=", "center=", "epsilon=", "momentum=",
    ]  # fmt: skip
    defaults = "defaults:\n  lrn \n"
    assert [item.label for item in completions(defaults, 1, len("  lrn "), {})] == [
        "size=", "alpha=", "beta=", "bias=",
    ]  # fmt: skip


def test_a_defaults_line_sets_the_options_its_words_share() -> None:
    conv = [option.name for option in defaults_options("conv")]
    assert "valid" in conv and "relu6" in conv
    assert "groups" not in conv and "mult" not in conv  # one conv's own
    assert [option.name for option in defaults_options("pool")] == ["same", "valid"]


def test_the_language_reference_shows_the_registry() -> None:
    reference = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
    assert reference_table() in reference
    assert activation_table() in reference


def test_a_word_that_takes_only_options_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = Word("avgall", "global average pooling", lowering.plain, GlobalAvgPool)
    monkeypatch.setitem(LAYER_WORDS, "avgall", entry)
    network = compile_spec("avgall\ndense classes\n")
    assert [(layer.name, layer.kind) for layer in network.layers[1:2]] == [("avgall1", "gap")]


@pytest.mark.parametrize("word", ["relu", "gmp", "dwconv", "inception"])
def test_a_module_may_not_take_a_layer_word_as_its_name(word: str) -> None:
    # An instance of it would read as the layer (or, for a word without a rule, hide it).
    found = compile_errors(f"module {word}:\n  conv 1x1 8\nconv 1x1 8\ngap\ndense classes\n")
    assert found == [("reserved-name", 4, 8)]
