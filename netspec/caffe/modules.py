"""Branch groups repeated with one shape become a module with instances: what varies
between them (a conv's width, a window's stride) becomes a parameter, what always varies
together one parameter, and what never varies stays written in the module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from netspec.caffe.structure import HERE
from netspec.syntax import ast
from netspec.syntax.module_names import module_name

# A slot of the group: a conv's width ("w") or a window's stride ("s"), and its value.
Make = Callable[[str, int], ast.Value | None]


def _abstract(group: ast.BranchGroup, make: Make) -> ast.BranchGroup:
    """The group with each slot's value replaced by what `make` gives for it."""

    def layer(statement: ast.Statement) -> ast.Statement:
        if not isinstance(statement, ast.LayerStmt):
            return statement
        size, kernel = statement.size, statement.kernel
        if statement.kind == "conv" and isinstance(size, ast.Number):
            size = make("w", int(size.value))
        if kernel is not None and isinstance(kernel.stride, ast.Number | None):
            stride = 1 if kernel.stride is None else int(kernel.stride.value)
            kernel = kernel._replace(stride=make("s", stride))
        return statement._replace(size=size, kernel=kernel)

    branches = tuple(
        branch._replace(body=tuple(layer(each) for each in branch.body))
        for branch in group.branches
    )
    return group._replace(branches=branches)


def _slots(group: ast.BranchGroup) -> tuple[ast.BranchGroup, list[tuple[str, int]]]:
    found: list[tuple[str, int]] = []

    def collect(kind: str, value: int) -> ast.Value:
        found.append((kind, value))
        return ast.Ref("?", HERE)

    return _abstract(group, collect), found


@dataclass
class _Module:
    shape: ast.BranchGroup
    uses: list[int]


def _template(
    columns: list[tuple[int, ...]], params: dict[tuple[str, tuple[int, ...]], str]
) -> Make:
    """The module's body: a parameter where the slot varies, else the value written."""
    slot = iter(columns)

    def template(kind: str, value: int) -> ast.Value | None:
        column = next(slot)
        if (kind, column) in params:
            return ast.Ref(params[(kind, column)], HERE)
        return None if kind == "s" and value == 1 else ast.Number(value, HERE)

    return template


def with_modules(
    statements: list[ast.Statement], names: dict[int, str]
) -> tuple[list[ast.ModuleDef], list[ast.Statement]]:
    """Module definitions, and the statements with each repeated group as an instance named
    by `names` (by the group's id: its join's name in the prototxt)."""
    shapes: dict[ast.BranchGroup, _Module] = {}
    for index, statement in enumerate(statements):
        if isinstance(statement, ast.BranchGroup):
            shape, _ = _slots(statement)
            shapes.setdefault(shape, _Module(shape, [])).uses.append(index)
    modules: list[ast.ModuleDef] = []
    result = list(statements)
    taken: set[str] = set()
    for module in shapes.values():
        if len(module.uses) < 2:
            continue
        groups = [statements[index] for index in module.uses]
        table = [_slots(group)[1] for group in groups if isinstance(group, ast.BranchGroup)]
        columns = list(zip(*(tuple(value for _, value in row) for row in table), strict=True))
        kinds = [kind for kind, _ in table[0]]
        params: dict[tuple[str, tuple[int, ...]], str] = {}
        for kind, column in zip(kinds, columns, strict=True):
            if len(set(column)) > 1 and (kind, column) not in params:
                count = sum(1 for each in params if each[0] == kind)
                params[(kind, column)] = kind if count == 0 else f"{kind}{count + 1}"
        first = groups[0]
        assert isinstance(first, ast.BranchGroup)
        body = _abstract(first, _template(columns, params))
        name = module_name(first, taken)
        declared = [
            ast.Param(param, HERE, ast.Number(1, HERE) if kind == "s" else None)
            for (kind, _), param in params.items()
        ]
        # Parameters with a default go last.
        declared.sort(key=lambda param: param.default is not None)
        modules.append(ast.ModuleDef(name, tuple(declared), (body,), HERE, HERE))
        order = [param.name for param in declared]
        for row, index in enumerate(module.uses):
            arguments = tuple(
                ast.Argument(param, ast.Number(column[row], HERE), HERE)
                for (kind, column), param in sorted(
                    params.items(), key=lambda item: order.index(item[1])
                )
                if not (kind == "s" and column[row] == 1)
            )
            label = names.get(id(statements[index]))
            result[index] = ast.InstanceStmt(name, label, arguments, HERE, HERE)
    return modules, result
