"""What `netspec check` prints for people and for tools: diagnostics on stderr, one header
line each at any width; a sweep's sizes; SARIF 2.1.0 (torchsummary's line:
tests/analysis/test_torchsummary.py)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from rich.console import Console
from typer.testing import CliRunner

from netspec.cli import app
from netspec.render import print_diagnostics
from tests.helpers import GOOGLENET, REPO, check, spec

SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
# Two errors the lowering reports together; each header is longer than 40 columns.
TWO_ERRORS = "conv 3x3 0\nconv 3x3 64 foo\ngap\ndense classes\n"
HEADER = re.compile(r"^bad\.ns:[0-9]*:[0-9]*: error\[")


def test_grep_counts_every_error_on_stderr_at_40_columns(tmp_path: Path) -> None:
    (tmp_path / "bad.ns").write_text(spec(TWO_ERRORS), encoding="utf-8")
    command = (
        f"{sys.executable} -m netspec check bad.ns 2>&1 >/dev/null "
        "| grep -c '^bad.ns:[0-9]*:[0-9]*: error\\['"
    )
    env = {**os.environ, "COLUMNS": "40", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "2", result.stderr


def test_stdout_has_the_table_and_no_diagnostics(tmp_path: Path) -> None:
    (tmp_path / "bad.ns").write_text(spec("conv 3x3 16\nconv 1x1 2\ngap\ndense classes\n"))
    result = subprocess.run(
        [sys.executable, "-m", "netspec", "check", "bad.ns"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "note[bottleneck]" in result.stderr and "note[" not in result.stdout
    assert "conv1" in result.stdout and "parameters" in result.stdout


def test_a_header_is_never_wrapped_on_a_narrow_terminal() -> None:
    report = check(TWO_ERRORS)
    buffer = io.StringIO()
    print_diagnostics(Console(file=buffer, width=40), report.diagnostics, spec(TWO_ERRORS))
    headers = [line for line in buffer.getvalue().splitlines() if line.startswith("t.ns:")]
    assert headers == [
        "t.ns:4:10: error[invalid-value]: conv filters must be a whole number >= 1, not 0",
        "t.ns:5:13: error[unknown-option]: unknown option 'foo' for conv",
    ]


def test_each_diagnostic_of_a_sweep_says_its_input_size() -> None:
    result = CliRunner().invoke(app, ["check", str(GOOGLENET), "--input", "32,64"])
    headers = [line for line in result.stderr.splitlines() if ": error[" in line]
    assert len(headers) == 4, result.output
    assert [header.rsplit(" (", 1)[1] for header in headers] == [
        "at input 32x32x3)",
        "at input 32x32x3)",
        "at input 64x64x3)",
        "at input 64x64x3)",
    ]


def test_totals_hold_for_the_inference_model_when_only_an_aux_head_fails() -> None:
    body = "conv 3x3 8\naux a:\n  maxpool 33x33 valid\n  gap\n  dense classes\ngap\ndense classes\n"
    report = check(body)
    assert [d.code for d in report.diagnostics] == ["window-too-large"]
    assert report.totals is not None
    assert report.totals.params == (9 * 3 * 8 + 8) + (8 * 10 + 10)
    assert (report.totals.aux_params, report.totals.params_with_aux) == (None, None)


def sarif(*args: str | Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["check", *map(str, args), "--format", "sarif"])
    log: dict[str, Any] = json.loads(result.stdout)
    return log


def test_sarif_validates_against_the_2_1_0_schema(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ns"
    bad.write_text(spec(TWO_ERRORS), encoding="utf-8")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    for log in (sarif(bad), sarif(GOOGLENET, "--input", "32,224"), sarif(tmp_path / "no.ns")):
        Draft4Validator(schema).validate(log)
    broken = sarif(bad)
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert not Draft4Validator(schema).is_valid(broken)


def test_sarif_has_a_rule_per_code_and_results_at_file_line_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ns"
    bad.write_text(spec(TWO_ERRORS), encoding="utf-8")
    (run,) = sarif(bad)["runs"]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [
        "invalid-value",
        "unknown-option",
    ]
    places = [
        (
            result["ruleId"],
            result["level"],
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"],
        )
        for result in run["results"]
    ]
    assert places == [
        ("invalid-value", "error", str(bad), {"startLine": 4, "startColumn": 10}),
        ("unknown-option", "error", str(bad), {"startLine": 5, "startColumn": 13}),
    ]
