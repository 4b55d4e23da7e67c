"""Diagnostics rendered as a compiler would: `file:line:col: error[code]: message`,
the source line, and a caret under the token."""

from __future__ import annotations

import re

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


def pinpoint(diagnostic: Diagnostic, text: str | None) -> str:
    """Plain text; the CLI colours it."""
    where = diagnostic.file or "<spec>"
    if diagnostic.line:
        where += f":{diagnostic.line}:{diagnostic.column}"
    parts = [f"{where}: {diagnostic.severity.value}[{diagnostic.code}]: {diagnostic.message}"]
    line = source_line(text, diagnostic.line) if text is not None and diagnostic.line else None
    if line is not None:
        gutter = " " * len(str(diagnostic.line))
        column = max(diagnostic.column, 1)
        width = token_width(line, column)
        parts += [
            f"{gutter} |",
            f"{diagnostic.line} | {line}",
            f"{gutter} | {' ' * (column - 1)}{'^' * width}",
        ]
        if diagnostic.hint:
            parts.append(f"{gutter} = hint: {diagnostic.hint}")
    elif diagnostic.hint:
        parts.append(f"  = hint: {diagnostic.hint}")
    return "\n".join(parts)
