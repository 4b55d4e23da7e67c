"""The modules a spec defines, where, and with which parameters: for go-to-definition and
for completing an instance's arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass

from netspec.syntax import ast

_WORD = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True)
class Module:
    name: str
    # 1-based, of the name in `module NAME`.
    line: int
    column: int
    params: tuple[ast.Param, ...]

    @property
    def signature(self) -> str:
        params = ", ".join(
            param.name if param.default is None else f"{param.name}={ast.written(param.default)}"
            for param in self.params
        )
        return f"module {self.name}({params})" if self.params else f"module {self.name}"


def defined_modules(spec: ast.Spec) -> dict[str, Module]:
    """The spec's modules by name."""
    return {
        statement.name: Module(
            statement.name, statement.name_pos.line, statement.name_pos.column, statement.params
        )
        for statement in spec.statements
        if isinstance(statement, ast.ModuleDef)
    }


def word_at(line: str, character: int) -> str | None:
    """The name under a 0-based cursor, which may stand just after its last character."""
    for match in _WORD.finditer(line):
        if match.start() <= character <= match.end():
            return match.group()
    return None


def definition(modules: dict[str, Module], line: str, character: int) -> Module | None:
    """The module whose name is under the cursor (an instance, or the definition itself)."""
    word = word_at(line, character)
    return modules.get(word) if word else None
