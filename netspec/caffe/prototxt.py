"""A .prototxt file to a tree of messages: the Lark parser and its errors as diagnostics."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import NamedTuple

from lark import Lark, Token, Transformer, UnexpectedInput, v_args

from netspec.diagnostics import NetspecError, error

GRAMMAR = Path(__file__).with_name("prototxt.lark")

Scalar = str | int | float


class Field(NamedTuple):
    name: str
    value: Scalar | Message
    line: int
    column: int


class Message(NamedTuple):
    """A message's fields in the order written (protobuf's repeated fields repeat the name)."""

    fields: tuple[Field, ...]

    def all(self, name: str) -> list[Scalar | Message]:
        return [field.value for field in self.fields if field.name == name]

    def get(self, name: str, default: Scalar | None = None) -> Scalar | None:
        values = [value for value in self.all(name) if not isinstance(value, Message)]
        return values[-1] if values else default

    def message(self, name: str) -> Message:
        """The sub-message (an empty one where the file leaves it out)."""
        found = [value for value in self.all(name) if isinstance(value, Message)]
        return found[-1] if found else Message(())


@cache
def _lark() -> Lark:
    return Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", propagate_positions=True)


@v_args(inline=True)
class _ToMessage(Transformer[Token, Message]):
    def start(self, *fields: Field) -> Message:
        return Message(fields)

    def scalar_field(self, name: Token, value: Token) -> Field:
        return Field(str(name), _scalar(value), name.line or 0, name.column or 0)

    def message_field(self, name: Token, *fields: Field) -> Field:
        return Field(str(name), Message(fields), name.line or 0, name.column or 0)


def _scalar(token: Token) -> Scalar:
    if token.type == "STRING":
        return re.sub(r"\\(.)", r"\1", str(token)[1:-1])
    if token.type == "NUMBER":
        text = str(token).rstrip("f")
        try:
            return int(text)
        except ValueError:
            return float(text)
    return str(token)


def read_prototxt(text: str, file: str) -> Message:
    """The file's top-level message; a syntax error raises a NetspecError at file:line:col."""
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as failure:
        found = getattr(failure, "token", None) or getattr(failure, "char", None)
        what = f"unexpected '{found}'" if found else "unexpected end of file"
        raise NetspecError(
            error(
                "prototxt-syntax",
                f"{what} in the prototxt",
                file,
                failure.line if failure.line > 0 else text.count("\n") + 1,
                failure.column if failure.column > 0 else 1,
                hint="fields are `name: value` and messages `name { ... }`",
            )
        ) from None
    return _ToMessage().transform(tree)
