"""What may come next at the cursor: a statement's first word, a layer's options, a
module's parameters, a `defaults:` or `train:` setting. Every word is the lowering's own:
the layer words and their options come from their registry (`netspec.lowering.words`)."""

from __future__ import annotations

import re

from lsprotocol.types import CompletionItem, CompletionItemKind

from netspec.lowering.graph import AUX_OPTIONS, MERGES
from netspec.lowering.settings import DATASETS, DEFAULTS_KEYS, TRAIN_KEYS
from netspec.lowering.words import (
    BLOCK_WORDS,
    LAYER_WORDS,
    SECTION_WORDS,
    STATEMENT_WORDS,
    TOP_LEVEL_WORDS,
    defaults_options,
)
from netspec.lsp.modules import Module

_HEADER = re.compile(r"(\w+)(?:[ \t]+(\w+))?")


def _item(label: str, kind: CompletionItemKind, detail: str | None = None) -> CompletionItem:
    return CompletionItem(label=label, kind=kind, detail=detail)


def _top_level_block(lines: list[str], line: int) -> tuple[str, str | None] | None:
    """The first word (and the name after it) of the top-level statement whose block holds
    `line`; None when `line` is itself at top level."""
    if not lines[line][:1].isspace():
        return None
    for above in reversed(lines[:line]):
        if above.strip() and not above.lstrip().startswith("#") and not above[:1].isspace():
            match = _HEADER.match(above)
            return (match.group(1), match.group(2)) if match else None
    return None


def _statement_starts(modules: dict[str, Module], in_block: bool) -> list[CompletionItem]:
    # Sections stand at top level only.
    keywords = BLOCK_WORDS if in_block else (*TOP_LEVEL_WORDS, *SECTION_WORDS, *BLOCK_WORDS)
    return (
        [_item(word, CompletionItemKind.Keyword) for word in keywords]
        + [_item(word, CompletionItemKind.Function, "layer") for word in STATEMENT_WORDS]
        + [
            _item(name, CompletionItemKind.Module, module.signature)
            for name, module in modules.items()
        ]
    )


def _arguments(module: Module, given: list[str]) -> list[CompletionItem]:
    named = {word.split("=", 1)[0] for word in given}
    return [
        CompletionItem(
            label=f"{param.name}=",
            kind=CompletionItemKind.Variable,
            detail="optional" if param.default is not None else "required",
        )
        for param in module.params
        if param.name not in named
    ]


def _setting(block: str, words: list[str]) -> list[CompletionItem]:
    if block == "defaults":
        if not words:
            return [_item(key, CompletionItemKind.Property) for key in DEFAULTS_KEYS]
        choices = defaults_options(words[0])
        return [_item(option.label, CompletionItemKind.EnumMember) for option in choices]
    if not words:
        return [_item(key, CompletionItemKind.Property) for key in TRAIN_KEYS]
    if words == ["dataset"]:
        return [_item(name, CompletionItemKind.EnumMember) for name in DATASETS]
    return []


def completions(
    text: str, line: int, character: int, modules: dict[str, Module]
) -> list[CompletionItem]:
    """At a 0-based cursor; the editor filters them by the word being typed."""
    lines = text.split("\n")
    if line >= len(lines):
        return []
    before = lines[line][:character]
    if "#" in before:
        return []
    # The statement being written: after the last `->`, or after `branch:` and its kin.
    statement = re.split(r"->|:", before)[-1]
    words = statement.split()
    typing = words.pop() if words and not statement[-1:].isspace() else ""
    if "=" in typing:  # after `key=` comes a value
        return []
    block = _top_level_block(lines, line)
    if block and block[0] in ("defaults", "train"):
        return _setting(block[0], words)
    if not words:
        return _statement_starts(modules, in_block=block is not None)
    first, given = words[0], words[1:]
    if first == "merge":
        return [] if given else [_item(mode, CompletionItemKind.EnumMember) for mode in MERGES]
    if first == "aux":
        options = [_item(f"{name}=", CompletionItemKind.Property) for name in AUX_OPTIONS]
        return options if given else []
    if first in modules:
        # Arguments after the cursor are given too; not the rest of the word being typed.
        tail = re.split(r"->", lines[line][character:])[0]
        after = tail.split()
        if typing and after and not tail[:1].isspace():
            after.pop(0)
        return _arguments(modules[first], given + after)
    entry = LAYER_WORDS.get(first)
    if entry is None:
        return []
    if len(given) >= len(entry.arguments):
        return [_item(option.label, CompletionItemKind.EnumMember) for option in entry.options]
    # In a module, a number (a conv's width) is often one of the module's parameters.
    module = modules.get(block[1] or "") if block and block[0] == "module" else None
    if module is None or entry.arguments[len(given)].reading != "number":
        return []
    return [_item(param.name, CompletionItemKind.Variable, "parameter") for param in module.params]
