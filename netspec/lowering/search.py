"""A spec's `search:` section: the names it binds, the values each takes, and its budgets.

A configuration is one value per name; lowering binds them as spec-level parameters (the
resolver of values.py reads them like a module's parameters), so one
configuration is one lowering. Here: the space read from the tree (and what is wrong with
it), its configurations in order, and a configuration written out as a concrete spec.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from netspec.diagnostics import Diagnostic, error
from netspec.lowering.values import did_you_mean
from netspec.syntax import ast

Values = dict[str, int | float]

# What a budget may bound: the totals `check` prints (parameters and multiply-adds of the
# inference model, activation bytes per training example); netspec/sweep.py reads each.
MEASURES = ("params", "macs", "activations")


@dataclass(frozen=True)
class SearchSpace:
    """The names in the order written, each with its values in order; the budgets."""

    choices: tuple[tuple[str, tuple[int | float, ...]], ...]
    budgets: tuple[ast.Budget, ...]

    @property
    def size(self) -> int:
        count = 1
        for _, values in self.choices:
            count *= len(values)
        return count

    def first(self) -> Values:
        return {name: values[0] for name, values in self.choices}

    def configurations(self) -> Iterator[Values]:
        """Every configuration, the last name varying fastest."""
        names = [name for name, _ in self.choices]
        for values in itertools.product(*(values for _, values in self.choices)):
            yield dict(zip(names, values, strict=True))


def search_block(spec: ast.Spec) -> ast.SearchBlock | None:
    return next((s for s in spec.statements if isinstance(s, ast.SearchBlock)), None)


def read_space(spec: ast.Spec, file: str) -> tuple[SearchSpace | None, list[Diagnostic]]:
    """The spec's search space (None without a `search:` section) and what is wrong with it."""
    block = search_block(spec)
    if block is None:
        return None, []
    problems: list[Diagnostic] = []

    def fail(code: str, message: str, pos: ast.Pos, hint: str | None = None) -> None:
        problems.append(error(code, message, file, pos.line, pos.column, hint))

    choices: dict[str, tuple[int | float, ...]] = {}
    budgets: list[ast.Budget] = []
    for line in block.lines:
        if isinstance(line, ast.Budget):
            if line.measure not in MEASURES:
                fail(
                    "unknown-budget",
                    f"unknown budget '{line.measure}'",
                    line.pos,
                    hint=(did_you_mean(line.measure, MEASURES) or "")
                    + " budgets: "
                    + ", ".join(MEASURES),
                )
            elif line.value <= 0:
                fail("invalid-value", f"a budget of {line.limit} admits nothing", line.pos)
            else:
                budgets.append(line)
            continue
        if line.name in choices or line.name == "classes":
            fail(
                "duplicate-parameter",
                f"'{line.name}' is bound twice or shadows `classes`",
                line.pos,
            )
            continue
        values = _values(line, fail)
        if values:
            choices[line.name] = values
    problems += _misused(spec, choices, file)
    return SearchSpace(tuple(choices.items()), tuple(budgets)), problems


def _values(line: ast.SearchChoice | ast.SearchRange, fail: Any) -> tuple[int | float, ...]:
    if isinstance(line, ast.SearchChoice):
        return tuple(number.value for number in line.values)
    step = 1 if line.step is None else line.step.value
    if not isinstance(step, int) or step <= 0:
        fail("invalid-value", f"a range's step must be a whole number >= 1, not {step}", line.pos)
        return ()
    if line.stop < line.start:
        fail(
            "invalid-value",
            f"the range {line.start}..{line.stop} is empty",
            line.pos,
            hint=f"write it from low to high: {line.stop}..{line.start}",
        )
        return ()
    return tuple(range(line.start, line.stop + 1, step))


def _misused(spec: ast.Spec, choices: Mapping[str, object], file: str) -> list[Diagnostic]:
    """`search-shadow` for a module parameter named like a bound name; `search-unused` for a
    bound name no statement reads."""
    problems: list[Diagnostic] = []
    used: set[str] = set()
    for statement in spec.statements:
        if isinstance(statement, ast.SearchBlock):
            continue
        if isinstance(statement, ast.ModuleDef):
            for param in statement.params:
                if param.name in choices:
                    problems.append(
                        error(
                            "search-shadow",
                            f"module '{statement.name}' has a parameter '{param.name}', which "
                            "hides the search name of that name inside it",
                            file,
                            param.pos.line,
                            param.pos.column,
                            hint="rename the parameter or the search name",
                        )
                    )
        used |= _names_in(statement)
    block = search_block(spec)
    assert block is not None
    for line in block.lines:
        if not isinstance(line, ast.Budget) and line.name in choices and line.name not in used:
            problems.append(
                error(
                    "search-unused",
                    f"the search name '{line.name}' is used nowhere",
                    file,
                    line.pos.line,
                    line.pos.column,
                    hint="use it where a number stands (a width, a stride, a repeat count), "
                    "or remove it",
                )
            )
    return problems


def _names_in(node: Any) -> set[str]:
    """Every name read where a value stands, anywhere under a node of the tree."""
    if isinstance(node, ast.Ref):
        return {node.name}
    if isinstance(node, tuple):
        names: set[str] = set()
        for item in node:
            names |= _names_in(item)
        return names
    return set()


def concrete(spec: ast.Spec, values: Mapping[str, int | float]) -> ast.Spec:
    """The spec of one configuration: every bound name replaced by its value, without the
    `search:` section and the comments written inside it."""
    block = search_block(spec)
    if block is None:
        return spec
    last = max((line.pos.line for line in block.lines), default=block.pos.line)
    statements = tuple(
        _substituted(statement, values)
        for statement in spec.statements
        if not isinstance(statement, ast.SearchBlock)
    )
    comments = tuple(c for c in spec.comments if not block.pos.line <= c.pos.line <= last)
    return ast.Spec(statements, comments, spec.blank_lines)


def _substituted(node: Any, values: Mapping[str, int | float]) -> Any:
    if isinstance(node, ast.Ref):
        return ast.Number(values[node.name], node.pos) if node.name in values else node
    if isinstance(node, ast.Expr):
        left, right = (_substituted(side, values) for side in (node.left, node.right))
        return ast.expression(node.op, left, right)._replace(pos=node.pos)
    if isinstance(node, tuple) and not isinstance(node, ast.Pos):
        items = (_substituted(item, values) for item in node)
        return type(node)(*items) if hasattr(node, "_fields") else tuple(items)
    return node


def values_text(values: Mapping[str, int | float]) -> str:
    """`s=1 w=32 n=1`: a configuration as `check` and `sweep` name it."""
    return " ".join(f"{name}={value}" for name, value in values.items())
