"""Diagnostics laid out as a compiler would: `file:line:col: error[code]: message`,
the source line, and a caret under the token."""

from __future__ import annotations

import re
from dataclasses import dataclass

from netspec.diagnostics import Diagnostic

# A kernel with its stride, an expression in parentheses, a word, or a single character.
_TOKEN = re.compile(r"\d+x\d+(?:/\d+)?|\((?:[^()\n]|\([^()\n]*\))*\)|[^\s:>\-/=,()]+|\S")


def source_line(text: str, line: int) -> str | None:
    lines = text.split("\n")
    if 1 <= line <= len(lines):
        return lines[line - 1].rstrip("\r")
    return None


def token_width(line: str, column: int) -> int:
    """How many characters the caret underlines: the token starting at 1-based `column`."""
    token = _TOKEN.match(line, max(column, 1) - 1)
    return len(token.group()) if token else 1


@dataclass(frozen=True)
class Quote:
    """The source line under a diagnostic, with the caret's place."""

    line: int
    source: str
    column: int
    width: int

    @property
    def gutter(self) -> str:
        return " " * len(str(self.line))

    @property
    def prefix(self) -> str:
        """What stands before the quoted source: `12 | `."""
        return f"{self.line} | "

    @property
    def caret(self) -> str:
        return f"{self.gutter} | {' ' * (self.column - 1)}{'^' * self.width}"


@dataclass(frozen=True)
class Pinpoint:
    """A diagnostic's parts as the terminal shows them; `pinpoint` joins them into plain
    text, the CLI colours each."""

    location: str
    label: str
    message: str
    quote: Quote | None
    hint: str | None

    @property
    def hint_line(self) -> str | None:
        if self.hint is None:
            return None
        gutter = self.quote.gutter if self.quote else " "
        return f"{gutter} = hint: {self.hint}"


def locate(diagnostic: Diagnostic, text: str | None) -> Pinpoint:
    location = diagnostic.file or "<spec>"
    if diagnostic.line:
        location += f":{diagnostic.line}:{diagnostic.column}"
    quote = None
    line = source_line(text, diagnostic.line) if text is not None and diagnostic.line else None
    if line is not None:
        column = max(diagnostic.column, 1)
        quote = Quote(diagnostic.line, line, column, token_width(line, column))
    return Pinpoint(
        location,
        f"{diagnostic.severity.value}[{diagnostic.code}]",
        diagnostic.message,
        quote,
        diagnostic.hint,
    )


def pinpoint(diagnostic: Diagnostic, text: str | None) -> str:
    """Plain text; the CLI colours it."""
    place = locate(diagnostic, text)
    parts = [f"{place.location}: {place.label}: {place.message}"]
    if place.quote is not None:
        quote = place.quote
        parts += [f"{quote.gutter} |", quote.prefix + quote.source, quote.caret]
    if place.hint_line is not None:
        parts.append(place.hint_line)
    return "\n".join(parts)
