"""Blocks that repeat with other numbers (a stage's first block at each width) as modules.

Top-level branch groups alike but for their numbers become instances of one module; the
numbers that differ between instances become its parameters (one per distinct column of
values, named for where it stands: `w` a width, `s` a stride, `k` a window side, else
the option's name), the others stay written in the module. A group alone keeps its place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from compiler.keras_layers import AT, number
from netspec.syntax import ast
from netspec.syntax.module_names import module_name

# A module earns its definition only where a group spans this many printed lines.
SMALLEST_BLOCK = 2
POOLS = ("maxpool", "avgpool")
ROLES = {"size": "w", "stride": "s", "height": "k", "width": "k"}


def _numbers(node: Any, role: str = "") -> Iterator[tuple[str, ast.Number]]:
    """Every number in a statement with where it stands, in a fixed order."""
    if isinstance(node, ast.Number):
        yield role, node
    elif isinstance(node, ast.Option):
        for value in node.values:
            yield from _numbers(value, node.name)
    elif isinstance(node, ast.LayerStmt) and node.kind == "dropout":
        yield from _numbers(node.size, "rate")
    elif isinstance(node, tuple) and hasattr(node, "_fields"):
        for field, value in zip(node._fields, node, strict=True):
            yield from _numbers(value, ROLES.get(field, role))
    elif isinstance(node, tuple):
        for value in node:
            yield from _numbers(value, role)


def _replaced(node: Any, new: Callable[[ast.Number], ast.Value]) -> Any:
    """The statement with every number replaced by `new(number)`, in `_numbers`' order."""
    if isinstance(node, ast.Number):
        return new(node)
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        return type(node)(*(_replaced(value, new) for value in node))
    if isinstance(node, tuple):
        return tuple(_replaced(value, new) for value in node)
    return node


def _shape(statement: ast.Statement) -> ast.Statement:
    """The statement with its numbers blanked: statements alike but for numbers share it."""
    return _replaced(statement, lambda _: number(0))  # type: ignore[no-any-return]


def _strided(node: Any) -> Any:
    """Every window with its stride written (1 where none was), so that a block that
    strides and one that does not are alike."""
    kernel = node.kernel if isinstance(node, ast.LayerStmt) else None
    if kernel is not None and node.kind not in POOLS and kernel.stride is None:
        return node._replace(kernel=kernel._replace(stride=number(1)))
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        return type(node)(*(_strided(value) for value in node))
    if isinstance(node, tuple):
        return tuple(_strided(value) for value in node)
    return node


def _unstrided(node: Any) -> Any:
    """A conv's stride of 1 unwritten again (a pool's stays: unwritten, it is the window)."""
    kernel = node.kernel if isinstance(node, ast.LayerStmt) else None
    if kernel is not None and node.kind not in POOLS and kernel.stride == number(1):
        return node._replace(kernel=kernel._replace(stride=None))
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        return type(node)(*(_unstrided(value) for value in node))
    if isinstance(node, tuple):
        return tuple(_unstrided(value) for value in node)
    return node


def _block(statement: ast.Statement) -> ast.BranchGroup | None:
    """The group a module may stand for: a group, or the one group a repeat repeats."""
    if isinstance(statement, ast.RepeatStmt) and len(statement.body) == 1:
        statement = statement.body[0]
    if not isinstance(statement, ast.BranchGroup):
        return None
    # `merge concat` written or not (it is left out where no group follows): the same block.
    return statement._replace(merge=statement.merge or ast.MergeStmt("concat", (), AT, AT))


def _instead(statement: ast.Statement, instance: ast.InstanceStmt) -> ast.Statement:
    if isinstance(statement, ast.RepeatStmt):
        return statement._replace(body=(instance,))
    return instance


def modules(
    statements: list[ast.Statement], lines: Callable[[ast.Statement], int]
) -> tuple[list[ast.ModuleDef], list[ast.Statement]]:
    """Module definitions, and the statements with the alike groups as their instances."""
    groups: dict[ast.Statement, list[int]] = {}
    blocks: dict[int, ast.BranchGroup] = {}
    for index, statement in enumerate(statements):
        block = _block(statement)
        if block is not None and lines(block) >= SMALLEST_BLOCK:
            blocks[index] = _strided(block)
            groups.setdefault(_shape(blocks[index]), []).append(index)
    out = list(statements)
    definitions: list[ast.ModuleDef] = []
    taken: set[str] = set()
    for indices in groups.values():
        if len(indices) < 2:
            continue
        name = module_name(blocks[indices[0]], taken)
        definition, instances = _module(name, [blocks[i] for i in indices])
        definitions.append(definition)
        for index, instance in zip(indices, instances, strict=True):
            out[index] = _instead(statements[index], instance)
    return definitions, out


def _module(name: str, alike: list[ast.Statement]) -> tuple[ast.ModuleDef, list[ast.InstanceStmt]]:
    found = [list(_numbers(statement)) for statement in alike]
    columns = [tuple(numbers[i][1].value for numbers in found) for i in range(len(found[0]))]
    params: dict[tuple[int | float, ...], str] = {}
    taken: set[str] = set()
    for (role, _), column in zip(found[0], columns, strict=True):
        if len(set(column)) > 1 and column not in params:
            base = role or "n"
            count = sum(1 for used in taken if used.rstrip("0123456789") == base)
            params[column] = base if count == 0 else f"{base}{count + 1}"
            taken.add(params[column])
    position = iter(columns)

    def as_param(value: ast.Number) -> ast.Value:
        column = next(position)
        return ast.Ref(params[column], AT) if column in params else value

    body = _unstrided(_replaced(alike[0], as_param))
    definition = ast.ModuleDef(
        name, tuple(ast.Param(param, AT) for param in params.values()), (body,), AT, AT
    )
    instances = [
        ast.InstanceStmt(
            name,
            None,
            tuple(ast.Argument(param, number(column[row]), AT) for column, param in params.items()),
            AT,
            None,
        )
        for row in range(len(alike))
    ]
    return definition, instances
