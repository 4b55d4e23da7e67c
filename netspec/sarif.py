"""`netspec check --format sarif`: the diagnostics as a SARIF 2.1.0 log, which code-review
tools (GitHub code scanning, VS Code's SARIF viewer) show on the spec's lines."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from netspec.analysis.report import Report
from netspec.diagnostics import Diagnostic

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _tool_version() -> str:
    try:
        return version("netspec")
    except PackageNotFoundError:
        return "0"


def _location(diagnostic: Diagnostic) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": diagnostic.file}}
    if diagnostic.line:
        # SARIF lines and columns are 1-based, as netspec's are.
        location["region"] = {
            "startLine": diagnostic.line,
            "startColumn": max(diagnostic.column, 1),
        }
    return {"physicalLocation": location}


def _message(diagnostic: Diagnostic, report: Report, sweep: bool) -> str:
    text = diagnostic.message
    if sweep:
        height, width, channels = report.input
        text += f" (at input {height}x{width}x{channels})"
    if diagnostic.hint:
        text += f"\nhint: {diagnostic.hint}"
    return text


def sarif_log(reports: list[Report], *, sweep: bool = False) -> dict[str, Any]:
    """One run; one rule per diagnostic code that occurs; one result per diagnostic."""
    diagnostics = [(report, d) for report in reports for d in report.diagnostics]
    codes = sorted({d.code for _, d in diagnostics})
    rule_index = {code: index for index, code in enumerate(codes)}
    results = [
        {
            "ruleId": d.code,
            "ruleIndex": rule_index[d.code],
            # SARIF's levels: error, warning, note (and none), the same words as netspec's.
            "level": d.severity.value,
            "message": {"text": _message(d, report, sweep)},
            "locations": [_location(d)],
        }
        for report, d in diagnostics
    ]
    driver = {
        "name": "netspec",
        "version": _tool_version(),
        "rules": [
            {"id": code, "name": code, "shortDescription": {"text": f"netspec check: {code}"}}
            for code in codes
        ],
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "artifacts": [
                    {"location": {"uri": file}} for file in dict.fromkeys(r.file for r in reports)
                ],
                "results": results,
            }
        ],
    }


def sarif_json(reports: list[Report], *, sweep: bool = False) -> str:
    return json.dumps(sarif_log(reports, sweep=sweep), indent=2)
