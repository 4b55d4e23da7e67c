"""Expanding statements into the flat, named layer graph.

Naming: an instance (module or `inception`) names everything inside it `NAME/...`, its
branches `b1`, `b2`, ... and its output layer `NAME` itself; layers outside instances are
named by section and kind (`stem/conv1`); an aux head names its layers `AUX/...`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from netspec.diagnostics import Diagnostic
from netspec.ir import (
    Activation,
    Add,
    AuxHead,
    Concat,
    Conv,
    LayerBase,
    Multiply,
    Role,
    Scale,
    Section,
)
from netspec.lowering.layers import Defaults, Site
from netspec.lowering.values import (
    Invalid,
    Resolver,
    did_you_mean,
    span_of,
    unknown_option,
    with_suggestion,
)
from netspec.lowering.words import ACTIVATIONS, LAYER_WORDS, STATEMENT_WORDS
from netspec.syntax import ast

MERGES = ("concat", "residual", "add", "mul")
AUX_OPTIONS = ("weight",)

# A spec that expands past this is a mistake (a runaway `repeat`), not a network.
MAX_LAYERS = 50_000
# What a statement that failed to lower would have made: the statements after it read it as
# their input, so they still lower (and say their own mistakes), while the analysis, which
# finds no layer of this name, skips everything it feeds rather than reporting each.
UNKNOWN = "<unknown>"


@dataclass(frozen=True)
class Scope:
    """Where a statement is being expanded: how to name, group and tag what it makes."""

    prefix: str = ""
    instance_prefix: str = ""
    section: str = ""
    role: Role = "trunk"
    aux: str = ""
    group: str = ""
    instance: str = ""
    module: str = ""
    repeat_suffix: str = ""
    bindings: dict[str, int | float] = field(default_factory=dict)
    module_stack: tuple[str, ...] = ()
    # The scope's last statement ends a head: the network's or an aux head's.
    ends_head: bool = False

    def join(self, *parts: str) -> str:
        return "/".join(part for part in (self.prefix, *parts) if part)


@dataclass
class GraphBuilder:
    file: str
    classes: int
    defaults: Defaults
    modules: dict[str, ast.ModuleDef]
    # One configuration of the spec's `search:` section: names every statement may read.
    searched: dict[str, int | float] = field(default_factory=dict)
    layers: list[LayerBase] = field(default_factory=list)
    aux_heads: list[AuxHead] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    _lines_of: dict[str, int] = field(default_factory=dict)
    _counters: Counter[str] = field(default_factory=Counter)
    _instances: Counter[str] = field(default_factory=Counter)

    # -- names and layers ------------------------------------------------------------------

    def resolver(self, scope: Scope) -> Resolver:
        return Resolver(self.file, self.classes, scope.bindings, self.searched)

    def claim(self, name: str, pos: ast.Pos, scope: Scope) -> str:
        if name in self._lines_of:
            raise self.resolver(scope).fail(
                "duplicate-name",
                f"the name '{name}' is already used (line {self._lines_of[name]})",
                pos,
            )
        if len(self._lines_of) >= MAX_LAYERS:
            raise self.resolver(scope).fail(
                "too-large", f"the network expands past {MAX_LAYERS} layers", pos
            )
        self._lines_of[name] = pos.line
        return name

    def auto_name(self, scope: Scope, kind: str, pos: ast.Pos) -> str:
        key = scope.join(kind)
        self._counters[key] += 1
        return self.claim(f"{key}{self._counters[key]}", pos, scope)

    def common(
        self, name: str, inputs: tuple[str, ...], pos: ast.Pos, scope: Scope
    ) -> dict[str, Any]:
        return {
            "name": name,
            "inputs": inputs,
            "span": span_of(pos),
            "section": scope.section,
            "role": scope.role,
            "aux": scope.aux,
            "group": scope.group,
            "instance": scope.instance,
            "module": scope.module,
        }

    def rename(self, old: str, new: str, start: int, pos: ast.Pos, module: str) -> None:
        """Give the output layer of an instance the instance's own name, place and word, so
        the summary row `3c` points at the line that wrote `3c` and says `inception`, not at
        the module's body and its last layer's kind."""
        span = span_of(pos)

        # The parts of the output's statement (`old/bn`) follow it (`new/bn`).
        names = {old: new}
        for layer in self.layers[start:]:
            if layer.part_of == old:
                names[layer.name] = new + layer.name[len(old) :]

        def renamed(name: str) -> str:
            return names.get(name, name)

        for index in range(start, len(self.layers)):
            layer = self.layers[index]
            update: dict[str, Any] = {
                "name": renamed(layer.name),
                "inputs": tuple(renamed(name) for name in layer.inputs),
            }
            if layer.name == old:
                update["span"] = span
                update["written_as"] = module
            if layer.part_of == old:
                update["part_of"] = new
            changed = {key: value for key, value in update.items() if getattr(layer, key) != value}
            if changed:
                self.layers[index] = layer.model_copy(update=changed)
        self.aux_heads = [
            head.model_copy(update={"tap": new}) if head.tap == old else head
            for head in self.aux_heads
        ]
        del self._lines_of[old]
        # A later duplicate of the instance's name points at the instance, not at its body.
        self._lines_of[new] = pos.line

    # -- statements ------------------------------------------------------------------------

    def body(
        self,
        statements: tuple[ast.Statement, ...],
        scope: Scope,
        current: str,
        *,
        own_prefix_for_one_group: bool = False,
    ) -> str:
        """Expand statements in order; return the name of the layer they end on."""
        groups = sum(isinstance(s, ast.BranchGroup) for s in statements)
        nests = any(isinstance(s, ast.RepeatStmt) for s in statements)
        group_scope_needed = not (own_prefix_for_one_group and groups == 1 and not nests)
        before_last = replace(scope, ends_head=False) if scope.ends_head else scope
        for index, statement in enumerate(statements, start=1):
            inner = scope if index == len(statements) else before_last
            try:
                current = self.statement(statement, inner, current, group_scope_needed)
            except Invalid as problem:
                self.diagnostics.append(problem.diagnostic)
                # An aux head taps the trunk and hands it on unchanged, failed or not.
                if not isinstance(statement, ast.AuxStmt):
                    current = UNKNOWN
        return current

    def statement(
        self, statement: ast.Statement, scope: Scope, current: str, group_scope_needed: bool
    ) -> str:
        if isinstance(statement, ast.LayerStmt):
            return self.layer(statement, scope, current)
        if isinstance(statement, ast.InceptionStmt):
            return self.inception(statement, scope, current)
        if isinstance(statement, ast.InstanceStmt):
            return self.instance(statement, scope, current)
        if isinstance(statement, ast.BranchGroup):
            return self.group(statement, scope, current, group_scope_needed)
        if isinstance(statement, ast.RepeatStmt):
            return self.repeat(statement, scope, current)
        if isinstance(statement, ast.AuxStmt):
            self.aux(statement, scope, current)
            return current
        if isinstance(statement, ast.SectionStmt):
            return self.section(statement, scope, current)
        if isinstance(statement, ast.MergeStmt):
            raise self.resolver(scope).fail(
                "stray-merge",
                "`merge` must come right after a group of `branch:` blocks",
                statement.pos,
            )
        raise AssertionError(f"unexpected statement {statement!r}")

    def layer(self, statement: ast.LayerStmt, scope: Scope, current: str) -> str:
        entry = LAYER_WORDS[statement.kind]
        common = {}
        if entry.layer is not None:  # `identity` makes no layer, so takes no name
            name = self.auto_name(scope, statement.kind, statement.pos)
            common = self.common(name, (current,), statement.pos, scope)
        site = Site(common, self.defaults, self.resolver(scope), scope.ends_head, self.warnings)
        nodes = entry.lower(statement, entry, site)
        if not nodes:
            return current
        for node in nodes[:-1]:
            self.claim(node.name, statement.pos, scope)
        self.layers.extend(nodes)
        return nodes[-1].name

    def section(self, statement: ast.SectionStmt, scope: Scope, current: str) -> str:
        if scope.prefix or scope.section:
            raise self.resolver(scope).fail(
                "nested-section",
                "sections (`stem:`, `stage NAME:`, `head:`) stand at top level",
                statement.pos,
            )
        if statement.kind == "stage":
            name = statement.name or ""
            label = f"stage{name}" if name.isdigit() else name
            header = f"stage {name}"
        else:
            label = header = statement.kind
        self.sections.append(
            Section.model_construct(name=label, header=header, span=span_of(statement.pos))
        )
        inner = replace(scope, prefix=label, section=label)
        return self.body(statement.body, inner, current)

    def group(
        self, statement: ast.BranchGroup, scope: Scope, current: str, group_scope_needed: bool
    ) -> str:
        resolver = self.resolver(scope)
        group_scope = scope
        if group_scope_needed:
            key = scope.join("g")
            self._counters[key] += 1
            group_scope = replace(scope, prefix=f"{key}{self._counters[key]}")
        mode = statement.merge.mode if statement.merge else "concat"
        merges = len(statement.branches) > 1 or mode != "concat"
        if merges and scope.role == "trunk" and not scope.instance:
            # A loose group: its branches and merge fold into the merge's row.
            scope = replace(scope, group=group_scope.join(mode))
            group_scope = replace(group_scope, group=scope.group)
        outputs = []
        for index, branch in enumerate(statement.branches, start=1):
            role: Role = "aux" if scope.role == "aux" else "branch"
            branch_scope = replace(
                group_scope, prefix=group_scope.join(f"b{index}"), role=role, ends_head=False
            )
            outputs.append(
                self.body(branch.body, branch_scope, current, own_prefix_for_one_group=True)
            )
        merge = statement.merge
        if mode not in MERGES:
            assert merge is not None
            raise resolver.fail(
                "unknown-merge",
                f"unknown merge '{mode}'",
                merge.mode_pos,
                hint=with_suggestion(
                    mode,
                    MERGES,
                    "merge concat (the default), residual scale=0.17, add [relu] or mul",
                ),
            )
        options = merge.options if merge else ()
        if mode == "concat":
            if options:
                raise resolver.fail(
                    "unknown-option", "`merge concat` takes no options", options[0].pos
                )
            if len(outputs) == 1:
                return outputs[0]
            name = self.claim(group_scope.join("concat"), statement.pos, scope)
            self.layers.append(
                Concat.model_construct(**self.common(name, tuple(outputs), statement.pos, scope))
            )
            return name
        name = self.claim(group_scope.join(mode), statement.pos, scope)
        common = {**self.common(name, (), statement.pos, scope), "written_as": mode}
        if mode == "residual":
            scale, activation = self.merge_options(options, resolver, mode, scale=True)
            self.residual(common, current, outputs, scale, activation)
            return name
        _, activation = self.merge_options(options, resolver, mode, scale=False)
        merged = Add if mode == "add" else Multiply
        self.finish(
            common, merged.model_construct(**{**common, "inputs": tuple(outputs)}), activation
        )
        return name

    def finish(self, common: dict[str, Any], node: LayerBase, activation: str) -> None:
        """Append a merge's last node, then its activation: the activation takes the merge's
        name and the merge becomes its part."""
        name = common["name"]
        if activation == "linear":
            self.layers.append(node)
            return
        part = f"{name}/{node.kind}"
        self.layers.append(node.model_copy(update={"name": part, "part_of": name}))
        self.layers.append(
            Activation.model_construct(**{**common, "inputs": (part,)}, function=activation)
        )

    def residual(
        self,
        common: dict[str, Any],
        shortcut: str,
        branches: list[str],
        scale: float,
        activation: str,
    ) -> None:
        """Inception-ResNet's merge as primitives: concatenate the branches, project them with
        a linear 1x1 conv (bias, no batch norm) back to the shortcut's width, scale, add to
        the shortcut, activate."""
        name = common["name"]
        # The concat, projection and scale work on the branches' side of the shortcut.
        role = "aux" if common["role"] == "aux" else "branch"
        part = {**common, "part_of": name, "role": role}
        mixed = branches[0]
        if len(branches) > 1:
            mixed = f"{name}/concat"
            self.layers.append(
                Concat.model_construct(**{**part, "name": mixed, "inputs": tuple(branches)})
            )
        project = Conv.model_construct(
            **{**part, "name": f"{name}/project", "inputs": (mixed, shortcut)},
            kernel=(1, 1),
            stride=(1, 1),
            padding="same",
            activation="linear",
            bias=True,
            filters=None,
        )
        scaled = Scale.model_construct(
            **{**part, "name": f"{name}/scale", "inputs": (project.name,)}, factor=scale
        )
        self.layers += [project, scaled]
        self.finish(
            common, Add.model_construct(**{**common, "inputs": (shortcut, scaled.name)}), activation
        )

    @staticmethod
    def merge_options(
        options: tuple[ast.Option, ...], resolver: Resolver, mode: str, *, scale: bool
    ) -> tuple[float, str]:
        """`scale=0.17` (residual only) and an activation: relu for residual, none for add
        and mul unless given."""
        factor, activation = 1.0, "relu" if mode == "residual" else "linear"
        known = ["scale=N", *ACTIVATIONS] if scale else list(ACTIVATIONS)
        for option in options:
            if scale and option.name == "scale":
                factor = resolver.positive(resolver.single(option), "scale")
            elif option.name in ACTIVATIONS and not option.values:
                activation = option.name
            else:
                raise unknown_option(resolver, option, f"merge {mode}", known)
        return factor, activation

    def inception(self, statement: ast.InceptionStmt, scope: Scope, current: str) -> str:
        """`inception 3a 64/96-128/16-32/32`: GoogLeNet's four branches, concatenated."""
        one, reduce3, three, reduce5, five, pool = statement.widths
        pos = statement.pos

        # Each layer points at the width that made it, so a diagnostic's caret lands there.
        def conv(size: int, width: ast.Value) -> ast.LayerStmt:
            side = ast.Number(size, width.pos)
            kernel = ast.Kernel(side, side, ast.Number(1, width.pos), width.pos)
            return ast.LayerStmt("conv", kernel, width, (), width.pos)

        pool_layer = ast.LayerStmt(
            "maxpool",
            ast.Kernel(
                ast.Number(3, pool.pos), ast.Number(3, pool.pos), ast.Number(1, pool.pos), pool.pos
            ),
            None,
            (ast.Option("same", (), pool.pos),),
            pool.pos,
        )
        branches = (
            (conv(1, one),),
            (conv(1, reduce3), conv(3, three)),
            (conv(1, reduce5), conv(5, five)),
            (pool_layer, conv(1, pool)),
        )
        body = (ast.BranchGroup(tuple(ast.Branch(b, pos) for b in branches), None, pos),)
        return self.expand_instance(
            statement.name + scope.repeat_suffix,
            statement.name_pos,
            body,
            scope,
            current,
            scope.bindings,
            scope.module_stack,
            statement.pos,
            "inception",
        )

    def instance(self, statement: ast.InstanceStmt, scope: Scope, current: str) -> str:
        resolver = self.resolver(scope)
        module = self.modules.get(statement.module)
        if module is None and _options_only(statement.module):
            return self.layer(_as_layer(statement), scope, current)
        if module is None:
            known = ", ".join(sorted(self.modules)) or "none defined"
            suggestion = did_you_mean(statement.module, [*STATEMENT_WORDS, *self.modules])
            raise resolver.fail(
                "unknown-module",
                f"unknown layer or module '{statement.module}'",
                statement.pos,
                hint=(f"{suggestion} " if suggestion else "") + f"modules in this spec: {known}",
            )
        if statement.stray:
            stray = statement.stray[0]
            raise resolver.fail(
                "syntax",
                f"unexpected '{stray.value}': an instance of module '{module.name}' takes a name "
                "and `parameter=value` arguments",
                stray.pos,
                hint=f"like `{module.name} NAME "
                + " ".join(f"{p.name}=..." for p in module.params)
                + "`",
            )
        if module.name in scope.module_stack:
            chain = " -> ".join((*scope.module_stack, module.name))
            raise resolver.fail(
                "module-recursion", f"module '{module.name}' uses itself ({chain})", statement.pos
            )
        bindings = self.arguments(statement, module, resolver)
        if statement.name:
            name, pos = statement.name + scope.repeat_suffix, statement.name_pos
        else:
            self._instances[module.name] += 1
            name, pos = f"{module.name}_{self._instances[module.name]}", statement.pos
        assert pos is not None
        return self.expand_instance(
            name,
            pos,
            module.body,
            scope,
            current,
            bindings,
            (*scope.module_stack, module.name),
            statement.pos,
            module.name,
        )

    def arguments(
        self, statement: ast.InstanceStmt, module: ast.ModuleDef, resolver: Resolver
    ) -> dict[str, int | float]:
        params = {param.name for param in module.params}
        bindings: dict[str, int | float] = {}
        for argument in statement.arguments:
            if argument.name not in params:
                expected = ", ".join(sorted(params)) or "no arguments"
                raise resolver.fail(
                    "unknown-argument",
                    f"module '{module.name}' has no parameter '{argument.name}'",
                    argument.pos,
                    hint=with_suggestion(argument.name, params, f"it takes: {expected}"),
                )
            if argument.name in bindings:
                raise resolver.fail(
                    "duplicate-argument", f"'{argument.name}' is given twice", argument.pos
                )
            bindings[argument.name] = resolver.number(argument.value)
        for param in module.params:
            if param.name not in bindings and param.default is not None:
                # A default is a number, `classes`, or a parameter before it.
                defaults = replace(resolver, bindings=bindings)
                bindings[param.name] = defaults.number(param.default)
        missing = [param.name for param in module.params if param.name not in bindings]
        if missing:
            raise resolver.fail(
                "missing-argument",
                f"module '{module.name}' needs " + ", ".join(f"{name}=..." for name in missing),
                statement.pos,
            )
        return bindings

    def expand_instance(
        self,
        name: str,
        pos: ast.Pos,
        body: tuple[ast.Statement, ...],
        scope: Scope,
        current: str,
        bindings: dict[str, int | float],
        module_stack: tuple[str, ...],
        statement_pos: ast.Pos,
        module: str,
    ) -> str:
        """`pos` is the instance name's (for duplicate names); `statement_pos` the line's;
        `module` the word that wrote it (`inception`, a module's name)."""
        full_name = "/".join(part for part in (scope.instance_prefix, name) if part)
        self.claim(full_name, pos, scope)
        del self._lines_of[full_name]  # reserved until the output layer takes it
        start = len(self.layers)
        inner = replace(
            scope,
            prefix=full_name,
            instance_prefix=full_name,
            repeat_suffix="",
            bindings=bindings,
            module_stack=module_stack,
            instance=scope.instance or full_name,
            module=scope.module or module,
        )
        reported = len(self.diagnostics)
        output = self.body(body, inner, current, own_prefix_for_one_group=True)
        if output == UNKNOWN:
            return UNKNOWN  # its last statement failed and said why
        if output == current:
            if len(self.diagnostics) > reported:
                return current  # its body failed and said why; "adds no layers" would be noise
            raise self.resolver(scope).fail("empty-module", f"'{name}' adds no layers", pos)
        self.rename(output, full_name, start, statement_pos, module)
        return full_name

    def repeat(self, statement: ast.RepeatStmt, scope: Scope, current: str) -> str:
        count = self.resolver(scope).positive_int(statement.times, "a repeat count")
        for index in range(1, count + 1):
            # Before each pass, at the repeat itself: stopping at the limit without a word
            # would hand on a silently truncated network.
            if len(self._lines_of) >= MAX_LAYERS:
                if any(problem.code == "too-large" for problem in self.diagnostics):
                    return current  # an inner repeat said so already
                raise self.resolver(scope).fail(
                    "too-large",
                    f"this repeat expands the network past {MAX_LAYERS} layers "
                    f"(at repetition {index} of {count})",
                    statement.pos,
                )
            inner = replace(
                scope,
                repeat_suffix=f"{scope.repeat_suffix}_{index}",
                ends_head=scope.ends_head and index == count,
            )
            current = self.body(statement.body, inner, current)
        return current

    def aux(self, statement: ast.AuxStmt, scope: Scope, current: str) -> None:
        resolver = self.resolver(scope)
        if scope.aux:
            raise resolver.fail(
                "nested-aux", "an aux head cannot hold another aux head", statement.pos
            )
        weight = 0.3
        for option in statement.options:
            if option.name not in AUX_OPTIONS:
                raise unknown_option(resolver, option, "aux", [f"{AUX_OPTIONS[0]}=0.3"])
            weight = float(resolver.number(resolver.single(option)))
            if weight < 0:
                raise resolver.fail("invalid-value", "an aux weight must be >= 0", option.pos)
        base = "/".join(p for p in (scope.instance_prefix, statement.name) if p)
        name = base + scope.repeat_suffix
        self.claim(name, statement.pos, scope)
        inner = Scope(
            prefix=name,
            instance_prefix=name,
            section=name,
            role="aux",
            aux=name,
            bindings=scope.bindings,
            module_stack=scope.module_stack,
            ends_head=True,
        )
        reported = len(self.diagnostics)
        output = self.body(statement.body, inner, current)
        if output == UNKNOWN:
            return  # its last statement failed and said why
        if output == current:
            if len(self.diagnostics) > reported:
                return  # its body failed and said why
            raise resolver.fail("empty-aux", f"aux head '{name}' has no layers", statement.pos)
        self.aux_heads.append(
            AuxHead.model_construct(
                name=name,
                weight=weight,
                tap=current,
                output=output,
                span=span_of(statement.pos),
            )
        )


def _options_only(word: str) -> bool:
    entry = LAYER_WORDS.get(word)
    return entry is not None and not entry.arguments


def _as_layer(statement: ast.InstanceStmt) -> ast.LayerStmt:
    """A layer word the grammar does not name (an activation): the words after it are its
    options, which its lowering checks."""
    words = [
        ast.Option(argument.name, (argument.value,), argument.pos)
        for argument in statement.arguments
    ]
    if statement.name and statement.name_pos:
        words.append(ast.Option(statement.name, (), statement.name_pos))
    words += [ast.Option(word.value, (), word.pos) for word in statement.stray]
    options = tuple(sorted(words, key=lambda option: option.pos))
    return ast.LayerStmt(statement.module, None, None, options, statement.pos)
