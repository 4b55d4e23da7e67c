"""The syntax tree to text, in the one canonical layout `netspec fmt` writes.

The layout (docs/language.md, "Canonical layout"): two spaces per block level; one space
between words; a layer's options in the order its entry in the layer-word registry lists
them; numbers in one form; a blank line around every top-level section, module and settings
block, and no more than one anywhere; trailing comments in column 39 (or two spaces after
longer code). What the author chose stays: chains, one-line blocks, the Inception
shorthand, module instances, and where each comment stands.

Every tool that writes a spec prints it here, so a generated spec reads like a written one.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal

from netspec.lowering import words
from netspec.syntax import ast

INDENT = "  "
# A trailing comment starts in this column (where most shipped specs had them), or two
# spaces after longer code: fixed, so a new long line never realigns its neighbours.
COMMENT_COLUMN = 39
COMMENT_GAP = 2


@dataclass
class _Line:
    depth: int
    text: str
    # Where it was written; 0 for a tree built by a program rather than parsed.
    line: int
    column: int
    # The top-level statement it belongs to, and whether that statement is a paragraph of
    # its own (a section, a module or a settings block: blank lines around it).
    statement: int
    paragraph: bool
    # A block's header whose statements follow on the lines below.
    opens: bool = False
    comment: str = ""
    alone: bool = False


def print_spec(spec: ast.Spec) -> str:
    """The spec as text: every statement and comment of the tree, in the canonical layout."""
    lines: list[_Line] = []
    for index, statement in enumerate(spec.statements):
        paragraph = isinstance(statement, ast.ModuleDef | ast.SectionStmt | ast.SettingsBlock)
        _Printer(index, paragraph).add(lines, statement, 0)
    lines = _with_comments(lines, spec.comments)
    return _assemble(lines, spec.blank_lines)


# -- values ------------------------------------------------------------------------------------


def number_text(value: int | float) -> str:
    """An integer as digits; a float in its shortest exact digits, positional from 0.001 up
    (`0.875`, `60.0`) and scientific below (`2e-4`, `1e-6`), so it reads back as the float."""
    if value < 0:
        return "-" + number_text(-value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        # `1e999` in a spec reads as infinity; lowering says what is wrong with it.
        return "1e999"
    text = repr(value)
    _, digits, exponent = Decimal(text).as_tuple()
    assert isinstance(exponent, int)  # a finite float
    power = len(digits) - 1 + exponent
    if -3 <= power < 16:
        return text
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    fraction = f".{mantissa[1:]}" if len(mantissa) > 1 else ""
    return f"{mantissa[0]}{fraction}e{power}"


def value_text(value: ast.Value) -> str:
    """Whatever stands where a number may: every value of the tree prints through here.
    Arithmetic goes in parentheses (`(c_in*e)`, also for a bare `w*4`), but for the fraction
    `rescale 1/255`, the one place `/` divides, which the grammar reads bare only."""
    if isinstance(value, ast.Number):
        return number_text(value.value)
    if isinstance(value, ast.Ref):
        return value.name
    return value.text if value.op == "/" else f"({value.text})"


def _option(option: ast.Option) -> str:
    if not option.values:
        return option.name
    return f"{option.name}=" + ",".join(value_text(value) for value in option.values)


def _ordered(options: tuple[ast.Option, ...], known: tuple[words.Option, ...]) -> list[ast.Option]:
    """Options in the registry's order of the attributes they set. Options that set the same
    attribute keep their order (a later one overrides an earlier); unknown ones go last."""
    fields = list(dict.fromkeys(option.field for option in known))
    field = {option.name: option.field for option in known}

    def rank(option: ast.Option) -> int:
        return fields.index(field[option.name]) if option.name in field else len(fields)

    return sorted(options, key=rank)


def _kernel(kernel: ast.Kernel) -> str:
    """`3x3/2`, `3x3/s`; with a side or the stride computed, every side in parentheses:
    `(k)x(k)/s`."""
    stride = "" if kernel.stride is None else "/" + value_text(kernel.stride)
    height, width = kernel.height, kernel.width
    if (
        isinstance(height, ast.Number)
        and isinstance(width, ast.Number)
        and not isinstance(kernel.stride, ast.Expr)
    ):
        return f"{number_text(height.value)}x{number_text(width.value)}{stride}"
    return f"({ast.written(height)})x({ast.written(width)}){stride}"


# -- statements --------------------------------------------------------------------------------

_Link = ast.LayerStmt | ast.InceptionStmt | ast.InstanceStmt


def _link(statement: _Link) -> str:
    """A statement that may stand in a chain: a layer, the Inception shorthand, an instance."""
    if isinstance(statement, ast.InceptionStmt):
        a, b, c, d, e, f = (value_text(width) for width in statement.widths)
        return f"inception {statement.name} {a}/{b}-{c}/{d}-{e}/{f}"
    if isinstance(statement, ast.InstanceStmt):
        return _instance(statement)
    return _layer(statement)


def _layer(statement: ast.LayerStmt) -> str:
    parts = [statement.kind]
    if statement.adaptive:
        parts.append("to")
    if statement.kernel is not None:
        parts.append(_kernel(statement.kernel))
    if statement.values:
        parts.append(",".join(value_text(value) for value in statement.values))
    elif statement.size is not None:
        parts.append(value_text(statement.size))
    entry = words.LAYER_WORDS.get(statement.kind)
    options = _ordered(statement.options, entry.options) if entry else statement.options
    parts += (_option(option) for option in options)
    return " ".join(parts)


def _instance(statement: ast.InstanceStmt) -> str:
    """The words as written, in their order: lowering reads a layer word's options in order."""
    written: list[tuple[ast.Pos, str]] = []
    if statement.name is not None:
        written.append((statement.name_pos or ast.Pos(0, 0), statement.name))
    for argument in statement.arguments:
        written.append((argument.pos, f"{argument.name}={value_text(argument.value)}"))
    written += ((word.pos, word.value) for word in statement.stray)
    written.sort(key=lambda word: word[0])
    return " ".join([statement.module, *(text for _, text in written)])


def _setting(line: ast.SettingLine, block: str) -> str:
    parts = [line.key]
    settings = line.words
    if block == "defaults" and all(isinstance(word, ast.Option) for word in settings):
        options = tuple(word for word in settings if isinstance(word, ast.Option))
        settings = tuple(_ordered(options, words.defaults_options(line.key)))
    for word in settings:
        if isinstance(word, ast.Option):
            parts.append(_option(word))
        elif isinstance(word, ast.Text):
            parts.append(f'"{word.value}"')
        else:
            parts.append(number_text(word.value))
    return " ".join(parts)


def _params(params: tuple[ast.Param, ...]) -> str:
    if not params:
        return ""
    written = (
        param.name if param.default is None else f"{param.name}={value_text(param.default)}"
        for param in params
    )
    return "(" + ", ".join(written) + ")"


@dataclass(frozen=True)
class _Printer:
    """Lines of one top-level statement."""

    statement_index: int
    paragraph: bool

    def line(self, depth: int, text: str, pos: ast.Pos, *, opens: bool = False) -> _Line:
        return _Line(depth, text, pos.line, pos.column, self.statement_index, self.paragraph, opens)

    def statement(self, statement: ast.Statement, depth: int) -> list[_Line]:
        if isinstance(statement, ast.NetworkStmt):
            return [self.line(depth, f"network {statement.name}", statement.pos)]
        if isinstance(statement, ast.InputStmt):
            shape = f"{statement.height}x{statement.width}x{statement.channels}"
            return [self.line(depth, f"input {shape}", statement.pos)]
        if isinstance(statement, ast.ClassesStmt):
            return [self.line(depth, f"classes {value_text(statement.number)}", statement.pos)]
        if isinstance(statement, ast.SettingsBlock):
            return [
                self.line(depth, f"{statement.kind}:", statement.pos, opens=True),
                *(
                    self.line(depth + 1, _setting(line, statement.kind), line.pos)
                    for line in statement.lines
                ),
            ]
        if isinstance(statement, ast.ModuleDef):
            header = f"module {statement.name}{_params(statement.params)}:"
            return self.block(header, statement.pos, statement.body, depth)
        if isinstance(statement, ast.SectionStmt):
            name = f" {statement.name}" if statement.name is not None else ""
            return self.block(f"{statement.kind}{name}:", statement.pos, statement.body, depth)
        if isinstance(statement, ast.RepeatStmt):
            header = f"repeat {value_text(statement.times)}:"
            return self.block(header, statement.pos, statement.body, depth)
        if isinstance(statement, ast.AuxStmt):
            header = " ".join(["aux", statement.name, *map(_option, statement.options)]) + ":"
            return self.block(header, statement.pos, statement.body, depth)
        if isinstance(statement, ast.BranchGroup):
            lines: list[_Line] = []
            for branch in statement.branches:
                lines += self.block("branch:", branch.pos, branch.body, depth)
            if statement.merge is not None:
                lines += self.statement(statement.merge, depth)
            return lines
        if isinstance(statement, ast.MergeStmt):
            merge = " ".join(["merge", statement.mode, *map(_option, statement.options)])
            return [self.line(depth, merge, statement.pos)]
        return [self.line(depth, _link(statement), statement.pos)]

    def block(
        self, header: str, pos: ast.Pos, body: tuple[ast.Statement, ...], depth: int
    ) -> list[_Line]:
        """A header and its statements: on one line (`branch: conv 1x1 64`) where the author
        wrote them so and they are one chain, else indented below it."""
        one_chain = all(isinstance(statement, _Link) for statement in body) and all(
            isinstance(statement, _Link) and statement.chained for statement in body[1:]
        )
        if body and one_chain and body[0].pos.line == pos.line:
            links = (_link(statement) for statement in body if isinstance(statement, _Link))
            return [self.line(depth, f"{header} " + " -> ".join(links), pos)]
        lines = [self.line(depth, header, pos, opens=True)]
        for statement in body:
            self.add(lines, statement, depth + 1)
        return lines

    def add(self, lines: list[_Line], statement: ast.Statement, depth: int) -> None:
        """The statement's lines after `lines`; a chain's link goes on its chain's line."""
        if (
            isinstance(statement, _Link)
            and statement.chained
            and lines
            and lines[-1].depth == depth
        ):
            lines[-1].text += " -> " + _link(statement)
        else:
            lines += self.statement(statement, depth)


# -- comments and blank lines ------------------------------------------------------------------


def _with_comments(lines: list[_Line], comments: tuple[ast.Comment, ...]) -> list[_Line]:
    """Each comment where it was written: a trailing one on its statement's line, one alone
    on its line before the statement that followed it, at the depth its column chose."""
    placed: list[_Line] = []
    code: list[_Line] = []  # the statements' lines placed so far
    upcoming = iter(lines)
    following = next(upcoming, None)
    for comment in comments:
        line = comment.pos.line
        # A trailing comment's statement is on its line; an own-line one goes before the next.
        while following is not None and (
            following.line < line or (following.line == line and not comment.alone)
        ):
            placed.append(following)
            code.append(following)
            following = next(upcoming, None)
        owner = code[-1] if code else None
        if not comment.alone and owner is not None and not owner.comment:
            owner.comment = comment.text
            continue
        # Alone, or a second comment for one printed line (inside a multi-line parameter list).
        depth = _comment_depth(code, following, comment.pos.column)
        if depth == 0 and following is not None:
            statement, paragraph = following.statement, following.paragraph
        elif owner is not None:
            statement, paragraph = owner.statement, owner.paragraph
        else:
            statement, paragraph = -1, False
        placed.append(
            _Line(depth, comment.text, line, comment.pos.column, statement, paragraph, alone=True)
        )
    if following is not None:
        placed.append(following)
    placed.extend(upcoming)
    return placed


def _comment_depth(code: list[_Line], following: _Line | None, column: int) -> int:
    """Between the statement before it and the one after, a comment alone on its line
    belongs to the deepest block still open there whose statements start at or left of its
    column: after a block's last statement, indented like it, it stays in the block."""
    low = following.depth if following is not None else 0
    if not code or low > code[-1].depth:
        return low
    for depth in range(code[-1].depth, low, -1):
        # The latest line at this depth, if its block is still open at the comment.
        at = next(line for line in reversed(code) if line.depth <= depth)
        if at.depth == depth and at.column <= column:
            return depth
    return low


def _assemble(lines: list[_Line], blank_lines: tuple[int, ...]) -> str:
    out: list[str] = []
    for previous, line in zip([None, *lines], lines, strict=False):
        if previous is not None and _blank_between(previous, line, blank_lines):
            out.append("")
        out.append(_text(line))
    return "".join(f"{text}\n" for text in out)


def _blank_between(previous: _Line, line: _Line, blank_lines: tuple[int, ...]) -> bool:
    if previous.opens:
        return False
    if previous.statement != line.statement and (previous.paragraph or line.paragraph):
        return True
    # The author's blank line, if there was one (or more) between the two.
    return 0 < previous.line < line.line and (
        bisect_right(blank_lines, line.line - 1) > bisect_right(blank_lines, previous.line)
    )


def _text(line: _Line) -> str:
    code = INDENT * line.depth + line.text
    if not line.comment:
        return code
    return code.ljust(max(COMMENT_COLUMN - 1, len(code) + COMMENT_GAP)) + line.comment
