"""The spec as written: statements with their positions, before modules and repeats expand.

These are named tuples (immutable, and cheap to define, which `netspec check` start-up
feels); the pydantic IR (`netspec.ir`) is what later stages share.
"""

from __future__ import annotations

from typing import NamedTuple


class Pos(NamedTuple):
    line: int
    column: int


class Number(NamedTuple):
    value: int | float
    pos: Pos


class Ref(NamedTuple):
    """A name where a number may stand: a module parameter, or `classes`."""

    name: str
    pos: Pos


class Expr(NamedTuple):
    """Arithmetic on numbers and parameters: `(c_in*e)`, `w*4`, `1/255`; `op` is one of
    `+ - * // /` (`/` only where a fraction stands, `rescale 1/255`)."""

    op: str
    left: Value
    right: Value
    pos: Pos
    # As written, without outer parentheses and spaces: what a diagnostic names.
    text: str


Value = Number | Ref | Expr


def written(value: Value) -> str:
    """A value as the spec wrote it: `64`, `w`, `c_in*e`."""
    if isinstance(value, Number):
        return str(value.value)
    return value.name if isinstance(value, Ref) else value.text


class Text(NamedTuple):
    value: str
    pos: Pos


class Option(NamedTuple):
    """`valid` (a flag: no values), `scale=0.17`, `at=60,120,160`."""

    name: str
    values: tuple[Value, ...]
    pos: Pos


class Kernel(NamedTuple):
    """`3x3/2`, or sides computed from parameters: `(k)x(k)/s`."""

    height: Value
    width: Value
    # A number, or a module parameter (`3x3/s`); None when the statement gives no stride.
    stride: Value | None
    pos: Pos


class LayerStmt(NamedTuple):
    """A layer word (netspec/lowering/words.py) and what follows it."""

    kind: str
    kernel: Kernel | None
    size: Value | None
    options: tuple[Option, ...]
    pos: Pos
    # `maxpool to 4x4`: pool to the kernel's grid rather than slide it.
    adaptive: bool = False
    # `pad 0,1,0,1`: every size given.
    values: tuple[Value, ...] = ()
    # Written after `->` on the line of the statement before it (a chain).
    chained: bool = False


class InceptionStmt(NamedTuple):
    name: str
    widths: tuple[Value, ...]
    pos: Pos
    name_pos: Pos
    chained: bool = False


class Argument(NamedTuple):
    name: str
    value: Value
    pos: Pos


class InstanceStmt(NamedTuple):
    """A module instance, or a word lowering looks up (an activation layer, or a mistake)."""

    module: str
    name: str | None
    arguments: tuple[Argument, ...]
    pos: Pos
    name_pos: Pos | None
    # Words after the module that an instance cannot have (`conv2 3x3`: the `3x3`).
    stray: tuple[Text, ...] = ()
    chained: bool = False


class MergeStmt(NamedTuple):
    mode: str
    options: tuple[Option, ...]
    pos: Pos
    mode_pos: Pos


class Branch(NamedTuple):
    body: tuple[Statement, ...]
    pos: Pos


class BranchGroup(NamedTuple):
    """Consecutive `branch:` blocks and the `merge` line right after them, if any."""

    branches: tuple[Branch, ...]
    merge: MergeStmt | None
    pos: Pos


class RepeatStmt(NamedTuple):
    times: Value
    body: tuple[Statement, ...]
    pos: Pos


class AuxStmt(NamedTuple):
    name: str
    options: tuple[Option, ...]
    body: tuple[Statement, ...]
    pos: Pos


class SectionStmt(NamedTuple):
    """`stem:`, `stage NAME:` or `head:`."""

    kind: str
    name: str | None
    body: tuple[Statement, ...]
    pos: Pos


class Param(NamedTuple):
    name: str
    pos: Pos
    # `s=1`: the value an instance that leaves the parameter out gets.
    default: Value | None = None


class ModuleDef(NamedTuple):
    name: str
    params: tuple[Param, ...]
    body: tuple[Statement, ...]
    pos: Pos
    name_pos: Pos


class NetworkStmt(NamedTuple):
    name: str
    pos: Pos


class InputStmt(NamedTuple):
    height: int
    width: int
    channels: int
    pos: Pos


class ClassesStmt(NamedTuple):
    number: Number
    pos: Pos


class SettingLine(NamedTuple):
    """One line of `defaults:` or `train:`: a key, then numbers, options and quoted text."""

    key: str
    words: tuple[Number | Option | Text, ...]
    pos: Pos


class SettingsBlock(NamedTuple):
    kind: str
    lines: tuple[SettingLine, ...]
    pos: Pos


Statement = (
    LayerStmt
    | InceptionStmt
    | InstanceStmt
    | BranchGroup
    | MergeStmt
    | RepeatStmt
    | AuxStmt
    | SectionStmt
    | ModuleDef
    | NetworkStmt
    | InputStmt
    | ClassesStmt
    | SettingsBlock
)


class Comment(NamedTuple):
    """`# ...` as written, less trailing spaces; `alone` when no code precedes it on its line."""

    text: str
    pos: Pos
    alone: bool


class Spec(NamedTuple):
    statements: tuple[Statement, ...]
    # What the grammar skips, kept so a printer can write the spec back as its author wrote
    # it: the comments in text order, and the numbers of the blank lines.
    comments: tuple[Comment, ...] = ()
    blank_lines: tuple[int, ...] = ()
