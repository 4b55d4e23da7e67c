"""`netspec fmt`: specs rewritten in the printer's canonical layout, and the proof it is safe.

The printer (netspec/syntax/printer.py) writes the syntax tree; here a file's text becomes
its formatted text, and a rewrite is held to what formatting promises before it is written:
the new text parses, keeps every comment, and lowers to the network the old text did.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netspec.api import compile_text
from netspec.diagnostics import NetspecError
from netspec.syntax.parser import parse
from netspec.syntax.printer import print_spec


def format_text(text: str, file: str = "<spec>") -> str:
    """The spec in canonical layout; a NetspecError (file:line:col) if it does not parse."""
    return print_spec(parse(text, file))


def spec_files(paths: list[Path]) -> list[Path]:
    """The files given, and the .ns files anywhere under the folders given."""
    files: list[Path] = []
    for path in paths:
        files += sorted(path.rglob("*.ns")) if path.is_dir() else [path]
    return files


@dataclass(frozen=True)
class Meaning:
    """What formatting must keep: the network (where the spec lowers) and the comments."""

    network: Any
    comments: Counter[str]


def meaning(text: str) -> Meaning:
    """The network the text lowers to, without where each thing was written (formatting
    moves lines and columns), or None for a spec that does not lower; its comment texts."""
    try:
        network: Any = _without_spans(compile_text(text).model_dump())
    except NetspecError:
        network = None
    return Meaning(network, Counter(comment.text for comment in parse(text).comments))


def _without_spans(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_spans(item) for key, item in value.items() if "span" not in key}
    if isinstance(value, list | tuple):
        return [_without_spans(item) for item in value]
    return value
