"""AST to IR: header, defaults and modules first, then the body expanded into a named graph."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from netspec.diagnostics import Diagnostic, NetspecError, Severity, error
from netspec.ir import InputLayer, Layer, Network, TrainConfig
from netspec.lowering.graph import GraphBuilder, Scope
from netspec.lowering.layers import Defaults
from netspec.lowering.search import SearchSpace, read_space, search_block, values_text
from netspec.lowering.settings import apply_defaults, train_config
from netspec.lowering.values import LARGEST_SIZE, Invalid, Resolver, span_of
from netspec.lowering.words import STATEMENT_WORDS
from netspec.syntax import ast

HEADER_KINDS = (ast.NetworkStmt, ast.InputStmt, ast.ClassesStmt)


def lower(
    spec: ast.Spec,
    file: str,
    input_override: tuple[int, int, int | None] | None = None,
    configuration: Mapping[str, int | float] | None = None,
) -> Network:
    """Expand a parsed spec; raise NetspecError carrying every error found.

    `input_override` replaces the spec's input size; a channel count of None keeps the spec's.
    `configuration` gives each name of the `search:` section its value (default: the first,
    and the section is checked too).
    """
    network, problems = lower_as_far_as_possible(spec, file, input_override, configuration)
    if problems:
        raise NetspecError(problems)
    assert network is not None
    return network


def lower_as_far_as_possible(
    spec: ast.Spec,
    file: str,
    input_override: tuple[int, int, int | None] | None = None,
    configuration: Mapping[str, int | float] | None = None,
) -> tuple[Network | None, list[Diagnostic]]:
    """Expand a parsed spec; return every error found, in source order, and the network as
    far as it lowered (None if there is nothing to analyse: a failed header, no layers),
    so that `check` can analyse the rest.

    A statement that failed leaves a hole (`UNKNOWN`) where its output would be: such a
    network has layers without all their inputs, and must not leave `check`.
    """
    problems: list[Diagnostic] = []
    header = _header(spec, file, problems)
    if header is None:
        return None, problems
    network_stmt, input_stmt, classes_stmt = header
    classes = int(classes_stmt.number.value)
    height, width, channels = input_stmt.height, input_stmt.width, input_stmt.channels
    if input_override is not None:
        height, width = input_override[0], input_override[1]
        channels = input_override[2] or channels
        if not 1 <= min(height, width, channels) <= max(height, width, channels) <= LARGEST_SIZE:
            pos = input_stmt.pos
            problem = error(
                "invalid-value",
                f"the input size {height}x{width}x{channels} given for this spec must be "
                f"from 1 to {LARGEST_SIZE:,} on each axis",
                file,
                pos.line,
                pos.column,
            )
            return None, [problem]

    searched = dict(configuration or {})
    space = None
    if configuration is None:
        # `check`'s case; `netspec sweep` reads the space once and gives each configuration.
        space, search_problems = read_space(spec, file)
        problems += search_problems
        searched = space.first() if space else {}
    resolver = Resolver(file, classes, {}, searched)
    defaults, train = Defaults(), TrainConfig.model_construct()
    modules: dict[str, ast.ModuleDef] = {}
    body: list[ast.Statement] = []
    for statement in spec.statements:
        if isinstance(statement, ast.SettingsBlock) and statement.kind == "defaults":
            for line in statement.lines:
                try:
                    defaults = apply_defaults(line, defaults, resolver)
                except Invalid as problem:
                    problems.append(problem.diagnostic)
        elif isinstance(statement, ast.SettingsBlock):
            train, train_problems = train_config(statement, resolver)
            problems.extend(train_problems)
        elif isinstance(statement, ast.ModuleDef):
            _add_module(statement, modules, file, problems)
        elif not isinstance(statement, (*HEADER_KINDS, ast.SearchBlock)):
            body.append(statement)

    builder = GraphBuilder(
        file=file, classes=classes, defaults=defaults, modules=modules, searched=searched
    )
    if space is not None:
        builder.warnings.append(_space_note(space, spec, file))
    input_pos = input_stmt.pos
    builder.claim("input", input_pos, Scope())
    builder.layers.append(
        InputLayer.model_construct(
            name="input",
            inputs=(),
            span=span_of(input_pos),
            height=height,
            width=width,
            channels=channels,
        )
    )
    output = builder.body(tuple(body), Scope(ends_head=True), "input")
    problems.extend(builder.diagnostics)
    # A statement inside `repeat` or a module fails once per expansion: report it once.
    unique = sorted(dict.fromkeys(problems), key=lambda d: (d.line, d.column))
    if output == "input":
        # Nothing to analyse: its missing head would only repeat that it has no layers.
        empty = error(
            "empty-network",
            "the network has no layers",
            file,
            network_stmt.pos.line,
            network_stmt.pos.column,
        )
        return None, unique or [empty]
    network = Network.model_construct(
        name=network_stmt.name,
        file=file,
        classes=classes,
        classes_span=span_of(classes_stmt.pos),
        # Lowering makes only the IR's kinds; tests validate its output against the schema.
        layers=cast("tuple[Layer, ...]", tuple(builder.layers)),
        output=output,
        aux_heads=tuple(builder.aux_heads),
        sections=tuple(builder.sections),
        train=train,
        warnings=tuple(dict.fromkeys(builder.warnings)),
    )
    return network, unique


def _space_note(space: SearchSpace, spec: ast.Spec, file: str) -> Diagnostic:
    block = search_block(spec)
    assert block is not None
    return error(
        "search-space",
        f"the search space holds {space.size:,} configuration(s); this check is of the first: "
        + (values_text(space.first()) or "(no names bound)"),
        file,
        block.pos.line,
        block.pos.column,
        hint="`netspec sweep` checks every configuration",
    ).model_copy(update={"severity": Severity.note})


def _header(
    spec: ast.Spec, file: str, problems: list[Diagnostic]
) -> tuple[ast.NetworkStmt, ast.InputStmt, ast.ClassesStmt] | None:
    found: dict[type, ast.Statement] = {}
    for index, statement in enumerate(spec.statements):
        if not isinstance(statement, HEADER_KINDS):
            continue
        pos = statement.pos
        if type(statement) in found:
            problems.append(
                error(
                    "duplicate-header",
                    "this header line is given twice "
                    f"(first on line {found[type(statement)].pos.line})",
                    file,
                    pos.line,
                    pos.column,
                )
            )
        found[type(statement)] = statement
        if isinstance(statement, ast.NetworkStmt) and index != 0:
            problems.append(
                error(
                    "header-order",
                    "`network NAME` must be the first statement",
                    file,
                    pos.line,
                    pos.column,
                )
            )
    names = {
        ast.NetworkStmt: "network NAME",
        ast.InputStmt: "input HxWxC",
        ast.ClassesStmt: "classes N",
    }
    missing = [names[kind] for kind in HEADER_KINDS if kind not in found]
    if missing:
        problems.append(
            error(
                "missing-header",
                "the spec needs " + ", ".join(f"`{m}`" for m in missing),
                file,
                1,
                1,
                hint="a spec starts: network NAME / input 224x224x3 / classes 1000",
            )
        )
    input_stmt = found.get(ast.InputStmt)
    if (
        isinstance(input_stmt, ast.InputStmt)
        and min(input_stmt.height, input_stmt.width, input_stmt.channels) < 1
    ):
        problems.append(
            error(
                "invalid-value",
                "input sizes must be at least 1",
                file,
                input_stmt.pos.line,
                input_stmt.pos.column,
            )
        )
    elif (
        isinstance(input_stmt, ast.InputStmt)
        and max(input_stmt.height, input_stmt.width, input_stmt.channels) > LARGEST_SIZE
    ):
        problems.append(
            error(
                "invalid-value",
                f"input sizes must be at most {LARGEST_SIZE:,}",
                file,
                input_stmt.pos.line,
                input_stmt.pos.column,
            )
        )
    classes_stmt = found.get(ast.ClassesStmt)
    if isinstance(classes_stmt, ast.ClassesStmt):
        value = classes_stmt.number.value
        if (isinstance(value, float) and not value.is_integer()) or not 1 <= value <= LARGEST_SIZE:
            count_pos = classes_stmt.number.pos
            problems.append(
                error(
                    "invalid-value",
                    "classes must be a whole number >= 1"
                    if value <= LARGEST_SIZE
                    else f"classes must be at most {LARGEST_SIZE:,}",
                    file,
                    count_pos.line,
                    count_pos.column,
                )
            )
    if problems:
        return None
    network_stmt = found[ast.NetworkStmt]
    assert isinstance(network_stmt, ast.NetworkStmt) and isinstance(input_stmt, ast.InputStmt)
    assert isinstance(classes_stmt, ast.ClassesStmt)
    return network_stmt, input_stmt, classes_stmt


def _add_module(
    module: ast.ModuleDef, modules: dict[str, ast.ModuleDef], file: str, problems: list[Diagnostic]
) -> None:
    pos = module.name_pos
    if module.name in STATEMENT_WORDS:
        problems.append(
            error(
                "reserved-name",
                f"'{module.name}' is a layer word, so no module may take its name",
                file,
                pos.line,
                pos.column,
                hint=f"name the module otherwise, like `{module.name}_block`",
            )
        )
        return
    if module.name in modules:
        problems.append(
            error(
                "duplicate-module",
                f"module '{module.name}' is defined twice "
                f"(first on line {modules[module.name].pos.line})",
                file,
                pos.line,
                pos.column,
            )
        )
        return
    seen: set[str] = set()
    for param in module.params:
        if param.name in seen or param.name == "classes":
            problems.append(
                error(
                    "duplicate-parameter",
                    f"parameter '{param.name}' is repeated or shadows `classes`",
                    file,
                    param.pos.line,
                    param.pos.column,
                )
            )
        seen.add(param.name)
    modules[module.name] = module
