"""The spec as written: statements with their positions, before modules and repeats expand.

These are plain frozen dataclasses; the pydantic IR (`netspec.ir`) is what later stages share.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pos:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float
    pos: Pos


@dataclass(frozen=True, slots=True)
class Ref:
    """A name where a number may stand: a module parameter, or `classes`."""

    name: str
    pos: Pos


Value = Number | Ref


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Option:
    """`valid` (a flag: no values), `scale=0.17`, `at=60,120,160`."""

    name: str
    values: tuple[Value, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Kernel:
    height: int
    width: int
    stride: int | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class LayerStmt:
    """conv, maxpool, avgpool, dense, dropout, gap, flatten, bn, lrn."""

    kind: str
    kernel: Kernel | None
    size: Value | None
    options: tuple[Option, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class InceptionStmt:
    name: str
    widths: tuple[Value, ...]
    pos: Pos
    name_pos: Pos


@dataclass(frozen=True, slots=True)
class Argument:
    name: str
    value: Value
    pos: Pos


@dataclass(frozen=True, slots=True)
class InstanceStmt:
    module: str
    name: str | None
    arguments: tuple[Argument, ...]
    pos: Pos
    name_pos: Pos | None


@dataclass(frozen=True, slots=True)
class MergeStmt:
    mode: str
    options: tuple[Option, ...]
    pos: Pos
    mode_pos: Pos


@dataclass(frozen=True, slots=True)
class Branch:
    body: tuple[Statement, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class BranchGroup:
    """Consecutive `branch:` blocks and the `merge` line right after them, if any."""

    branches: tuple[Branch, ...]
    merge: MergeStmt | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class RepeatStmt:
    count: Value
    body: tuple[Statement, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class AuxStmt:
    name: str
    options: tuple[Option, ...]
    body: tuple[Statement, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class SectionStmt:
    """`stem:`, `stage NAME:` or `head:`."""

    kind: str
    name: str | None
    body: tuple[Statement, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class ModuleDef:
    name: str
    params: tuple[Param, ...]
    body: tuple[Statement, ...]
    pos: Pos
    name_pos: Pos


@dataclass(frozen=True, slots=True)
class NetworkStmt:
    name: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class InputStmt:
    height: int
    width: int
    channels: int
    pos: Pos


@dataclass(frozen=True, slots=True)
class ClassesStmt:
    count: Number
    pos: Pos


@dataclass(frozen=True, slots=True)
class SettingLine:
    """One line of `defaults:` or `train:`: a key, then numbers, options and quoted text."""

    key: str
    words: tuple[Number | Option | Text, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class SettingsBlock:
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


@dataclass(frozen=True, slots=True)
class Spec:
    statements: tuple[Statement, ...]
