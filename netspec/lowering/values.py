"""Resolving the numbers and options of a statement, with errors pinned to the token."""

from __future__ import annotations

import difflib
import math
import operator
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from netspec.diagnostics import Diagnostic, error
from netspec.ir import Span
from netspec.syntax import ast

# Past TensorFlow's int32 shape limit a size is a typo, not a network; the bound also keeps
# every product of sizes (parameters, multiply-adds) well inside a float for the report.
LARGEST_SIZE = 2**31 - 1

TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0"}


def span_of(pos: ast.Pos) -> Span:
    return Span.model_construct(line=pos.line, column=pos.column)


class Invalid(Exception):
    """One statement cannot be lowered; the diagnostic says why and where."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


@dataclass(frozen=True)
class Resolver:
    """Turns values into numbers: literal numbers, module parameters, the names a `search:`
    section binds (one configuration's values, visible everywhere), and `classes`."""

    file: str
    classes: int
    bindings: Mapping[str, int | float]
    searched: Mapping[str, int | float] = field(default_factory=dict)

    def fail(self, code: str, message: str, pos: ast.Pos, hint: str | None = None) -> Invalid:
        return Invalid(error(code, message, self.file, pos.line, pos.column, hint))

    def number(self, value: ast.Value) -> int | float:
        if isinstance(value, ast.Expr):
            return self._evaluate(value)
        if isinstance(value, ast.Number):
            # `1e999` reads as infinity and a 400-digit integer fits no float: neither is a size
            # or a rate, and arithmetic on them fails far from the spec.
            if not -sys.float_info.max <= value.value <= sys.float_info.max:
                raise self.fail("invalid-value", "this number is too large", value.pos)
            return value.value
        if value.name in self.bindings:
            return self.bindings[value.name]
        if value.name in self.searched:
            return self.searched[value.name]
        if value.name == "classes":
            return self.classes
        known = ", ".join(sorted({*self.bindings, *self.searched})) or "none here"
        raise self.fail(
            "unknown-parameter",
            f"unknown parameter '{value.name}' (parameters in scope: {known}; `classes` is "
            "always available)",
            value.pos,
            hint=did_you_mean(value.name, [*self.bindings, *self.searched, "classes"]),
        )

    def _evaluate(self, expression: ast.Expr) -> int | float:
        left, right = self.number(expression.left), self.number(expression.right)
        if expression.op in ("//", "/") and right == 0:
            raise self.fail("invalid-value", f"`{expression.text}` divides by zero", expression.pos)
        try:
            result = _ARITHMETIC[expression.op](left, right)
        except OverflowError:
            result = math.inf
        if not -sys.float_info.max <= result <= sys.float_info.max:
            raise self.fail("invalid-value", f"`{expression.text}` is too large", expression.pos)
        return result

    def positive_int(self, value: ast.Value, what: str) -> int:
        return self.whole(value, what, least=1)

    def whole(self, value: ast.Value, what: str, *, least: int) -> int:
        number = self.number(value)
        if (isinstance(number, float) and not number.is_integer()) or number < least:
            raise self.fail(
                "invalid-value",
                f"{what} must be a whole number >= {least}, {_but(value, number)}",
                value.pos,
            )
        if number > LARGEST_SIZE:
            raise self.fail(
                "invalid-value",
                f"{what} must be at most {LARGEST_SIZE:,}, {_but(value, number)}",
                value.pos,
            )
        return int(number)

    def fraction(self, value: ast.Value, what: str, *, upper_inclusive: bool = False) -> float:
        number = float(self.number(value))
        ok = 0 <= number <= 1 if upper_inclusive else 0 <= number < 1
        if not ok:
            bound = "[0, 1]" if upper_inclusive else "[0, 1)"
            raise self.fail(
                "invalid-value",
                f"{what} must be in {bound}, {_but(value, number)}",
                value.pos,
            )
        return number

    def positive(self, value: ast.Value, what: str) -> float:
        number = float(self.number(value))
        if number <= 0:
            raise self.fail(
                "invalid-value", f"{what} must be > 0, {_but(value, number)}", value.pos
            )
        return number

    def non_negative(self, value: ast.Value, what: str) -> float:
        number = float(self.number(value))
        if number < 0:
            raise self.fail(
                "invalid-value", f"{what} must be >= 0, {_but(value, number)}", value.pos
            )
        return number

    def boolean(self, option: ast.Option) -> bool:
        if not option.values:
            return True
        (value,) = option.values[:1]
        word = ast.written(value)
        if word.lower() in TRUE_WORDS:
            return True
        if word.lower() in FALSE_WORDS:
            return False
        raise self.fail(
            "invalid-value", f"{option.name} takes true or false, not '{word}'", value.pos
        )

    def numbers(self, option: ast.Option) -> tuple[float, ...]:
        """`mean=0.5` or `mean=123.675,116.28,103.53`: one number or more."""
        if not option.values:
            raise self.fail(
                "invalid-value",
                f"{option.name} takes numbers, like {option.name}=0.5 or {option.name}=1,2,3",
                option.pos,
            )
        return tuple(float(self.number(value)) for value in option.values)

    def single(self, option: ast.Option) -> ast.Value:
        if len(option.values) != 1:
            raise self.fail(
                "invalid-value", f"{option.name} takes one value, like {option.name}=1", option.pos
            )
        return option.values[0]


_ARITHMETIC: dict[str, Callable[[Any, Any], int | float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "/": operator.truediv,
}


def _but(value: ast.Value, number: object) -> str:
    """The value a check rejected; an expression is named with it (`w-w` is 0)."""
    if isinstance(number, float):
        number = f"{number:g}"
    if isinstance(value, ast.Expr):
        return f"but `{value.text}` is {number}"
    return f"not {number}"


def did_you_mean(word: str, known: Iterable[str]) -> str | None:
    """ "did you mean `x`?" for the known word closest to a misspelt one, if one is close."""
    close = difflib.get_close_matches(word, [k.partition("=")[0] for k in known], n=1)
    return f"did you mean `{close[0]}`?" if close else None


def with_suggestion(word: str, known: Iterable[str], listing: str) -> str:
    """A hint that suggests the nearest known word, then lists them all."""
    known = list(known)
    suggestion = did_you_mean(word, known)
    return f"{suggestion} {listing}" if suggestion else listing


def unknown_option(resolver: Resolver, option: ast.Option, where: str, known: list[str]) -> Invalid:
    return resolver.fail(
        "unknown-option",
        f"unknown option '{option.name}' for {where}",
        option.pos,
        hint=with_suggestion(option.name, known, "expected one of: " + ", ".join(known)),
    )
