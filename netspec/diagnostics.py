"""The one diagnostic type every stage reports with, and the error that carries it."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    note = "note"


class Diagnostic(BaseModel):
    """A message about a spec, pinned to `file:line:column` (1-based; 0 when it has no place)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    severity: Severity
    code: str
    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    hint: str | None = None
    # The layers the diagnostic is about, by IR node name (a lint may name several).
    layers: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.error


def error(
    code: str,
    message: str,
    file: str = "",
    line: int = 0,
    column: int = 0,
    hint: str | None = None,
    layers: tuple[str, ...] = (),
) -> Diagnostic:
    return Diagnostic.model_construct(
        severity=Severity.error,
        code=code,
        message=message,
        file=file,
        line=line,
        column=column,
        hint=hint,
        layers=layers,
    )


def warning(
    code: str,
    message: str,
    file: str = "",
    line: int = 0,
    column: int = 0,
    hint: str | None = None,
    layers: tuple[str, ...] = (),
) -> Diagnostic:
    return error(code, message, file, line, column, hint, layers).model_copy(
        update={"severity": Severity.warning}
    )


class NetspecError(Exception):
    """Raised by any stage that cannot go on; carries the diagnostics that say why."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = (
            (diagnostics,) if isinstance(diagnostics, Diagnostic) else tuple(diagnostics)
        )
        super().__init__("; ".join(d.message for d in self.diagnostics))
