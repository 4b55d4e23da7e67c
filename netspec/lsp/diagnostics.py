"""netspec's diagnostics as LSP diagnostics, each spanning the token its caret underlines."""

from __future__ import annotations

from lsprotocol import types

from netspec.analysis.report import Report
from netspec.diagnostics import Diagnostic
from netspec.pinpoint import token_width

SEVERITIES = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
    "note": types.DiagnosticSeverity.Information,
}


def caret_range(diagnostic: Diagnostic, lines: list[str]) -> types.Range:
    """0-based, in characters; a diagnostic with no place, or past the end of an edited
    buffer, sits at the start of the spec."""
    if not 1 <= diagnostic.line <= len(lines):
        return types.Range(types.Position(0, 0), types.Position(0, 0))
    line = lines[diagnostic.line - 1].rstrip("\r")
    start = min(max(diagnostic.column, 1) - 1, len(line))
    end = min(start + token_width(line, start + 1), len(line)) if start < len(line) else start
    return types.Range(
        types.Position(diagnostic.line - 1, start), types.Position(diagnostic.line - 1, end)
    )


def lsp_diagnostics(report: Report, text: str) -> list[types.Diagnostic]:
    lines = text.split("\n")
    return [
        types.Diagnostic(
            range=caret_range(diagnostic, lines),
            severity=SEVERITIES[diagnostic.severity.value],
            code=diagnostic.code,
            source="netspec",
            message=diagnostic.message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else ""),
        )
        for diagnostic in report.diagnostics
    ]
