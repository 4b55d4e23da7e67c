"""Help that names each value as a user writes it, for the front end's and the backend's CLI.

Typer prints a parameter's Python type beside it (`<list[Path]>`, `<bool>`), which tells a
user nothing. Here an argument is its metavar or its name in capitals (`SPEC...`, `RUN`), an
option's value is its metavar where one is set (`HxWxC`) or typer's type where that reads
well (`<path>`, `<int range>`, the choices), and a flag shows nothing after its name.
Commands take `cls=Command`, apps `cls=Group`.
"""

from __future__ import annotations

from typing import Any

# Typer carries its own copy of click: its parameters and contexts are of that one's classes.
from typer._click import Context, Parameter
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


class _Argument(TyperArgument):
    @property
    def display_name_raw(self) -> str:
        return self.metavar or (self.name or "").upper()

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        if self.nargs != 1 and not name.endswith("..."):
            name += "..."
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: Context) -> str | None:
        return None  # the name says it


class _Option(TyperOption):
    def display_type_rich(self, ctx: Context) -> str | None:
        return None if self.is_flag else super().display_type_rich(ctx)


def _readable(param: Parameter) -> None:
    # Typer makes the parameter objects from the command's signature, with no way to name
    # their class: the subclasses above change only how help shows them, and add no state.
    if type(param) is TyperArgument:
        param.__class__ = _Argument
    elif type(param) is TyperOption:
        param.__class__ = _Option


class Command(TyperCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _readable(param)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if option is not None:
            _readable(option)
        return option


class Group(TyperGroup):
    def get_help_option(self, ctx: Context) -> TyperOption | None:
        option = super().get_help_option(ctx)
        if option is not None:
            _readable(option)
        return option
