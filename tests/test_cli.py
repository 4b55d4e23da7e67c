"""`netspec check` through Typer's CliRunner: exit codes (0 ok, 1 errors, 2 usage) and output.

Every exit-code assertion carries the output as its message, so a failure shows why.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from jsonschema import Draft202012Validator, ValidationError
from rich.console import Console
from typer.testing import CliRunner

from netspec.api import check_text
from netspec.cli import app
from netspec.render import print_diagnostics
from tests.helpers import CIFAR_TRIMMED, CLASSIFIER, GOOGLENET, flat, snippet, spec

runner = CliRunner()


def netspec(*args: str | Path) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def exits(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write a snippet after the standard header; return its short relative path.

    The command runs in `tmp_path`, so paths stay short and diagnostics fit on one line.
    """
    monkeypatch.chdir(tmp_path)

    def write_spec(body: str, name: str = "t.ns") -> Path:
        path = Path(name)
        path.write_text(spec(body), encoding="utf-8")
        return path

    return write_spec


def table_row(output: str, first_cell: str) -> list[str]:
    """The cells of the rich table row that starts with `first_cell`."""
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃ ").replace("┃", "│").split("│")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row {first_cell!r} in:\n{output}")


def test_a_clean_spec_exits_0_with_its_table_and_totals() -> None:
    output = exits(netspec("check", GOOGLENET), 0)
    # The table's title: the network's name, then the file (whose path also says googlenet).
    assert re.search(r"^googlenet  \(", output, re.MULTILINE), output
    assert "6,998,552" in output and "13,378,280" in output
    assert "1.58 GMAC" in output
    assert f"{GOOGLENET}: ok" in output
    for row in ("stem/conv1", "3a", "aux1", "head/dense1"):
        assert row in output


def test_errors_exit_1_with_a_pinpoint(write) -> None:
    path = write("conv 3x3 0\n" + CLASSIFIER)
    output = exits(netspec("check", path, "--no-layers"), 1)
    assert (
        f"{path}:4:10: error[invalid-value]: conv filters must be a whole number >= 1, not 0"
        in output
    )
    assert "4 | conv 3x3 0\n  |          ^\n" in output
    assert f"{path}: 1 error(s), 0 warning(s)" in output


def test_warnings_pass_unless_strict(write) -> None:
    path = write("conv 40x40 8\n" + CLASSIFIER)
    assert "warning[window-exceeds-map]" in exits(netspec("check", path), 0)
    assert "warning[window-exceeds-map]" in exits(netspec("check", path, "--strict"), 1)
    clean = write("conv 3x3 16\n" + CLASSIFIER, "clean.ns")
    exits(netspec("check", clean, "--strict"), 0)


def test_notes_are_printed_and_counted_but_never_fail_strict(write) -> None:
    # A bottleneck on a network without Inception-style modules: advice, not a fault.
    path = write("conv 3x3 64\nconv 1x1 4\n" + CLASSIFIER)
    output = exits(netspec("check", path, "--strict", "--no-layers"), 0)
    assert f"{path}:5:1: note[bottleneck]" in output
    assert f"{path}: 0 error(s), 0 warning(s), 1 note(s)" in output
    (report,) = reports_of(exits(netspec("check", path, "--json", "--strict"), 0))
    assert [(d["code"], d["severity"]) for d in report["diagnostics"]] == [("bottleneck", "note")]
    sarif = json.loads(exits(netspec("check", path, "--format", "sarif"), 0))
    (result,) = sarif["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("bottleneck", "note")
    sweep = exits(netspec("check", path, "--input", "32,64", "--strict"), 0)
    assert table_row(sweep, "errors / warnings") == ["errors / warnings", "0 / 0", "0 / 0"]


def test_a_diagnostic_is_coloured_by_its_fields_whatever_the_path_holds() -> None:
    """The severity's colour falls on `error[code]` even when the path has a ': ' in it."""
    text = spec("conv 3x3 0\n" + CLASSIFIER)
    report = check_text(text, "my: spec.ns")
    buffer = io.StringIO()
    terminal = Console(file=buffer, force_terminal=True, color_system="standard", width=200)
    print_diagnostics(terminal, report.diagnostics, text, context="at input 32x32x3")
    first, *_ = buffer.getvalue().split("\n")
    bold, red, plain = "\x1b[1m", "\x1b[1;31m", "\x1b[0m"
    assert first == (
        f"{bold}my: spec.ns:4:10: {plain}{red}error[invalid-value]{plain}{bold}: conv filters "
        f"must be a whole number >= 1, not 0 (at input 32x32x3){plain}"
    )


def test_a_missing_file_exits_1_with_file_not_found(write) -> None:
    output = exits(netspec("check", "nope.ns"), 1)
    assert "nope.ns: error[file-not-found]: no such spec file: nope.ns\n" in output


def test_one_bad_spec_among_several_fails_the_run(write) -> None:
    bad = write("conv 3x3 0\n" + CLASSIFIER)
    output = exits(netspec("check", GOOGLENET, bad, "--no-layers"), 1)
    assert f"{GOOGLENET}: ok" in output and f"{bad}: 1 error(s)" in output


@pytest.mark.parametrize("size", ["3x", "0x32", "abc", "32,,64", "32x32x3x1", "-32"])
def test_a_bad_input_size_is_a_usage_error(size: str) -> None:
    output = exits(netspec("check", GOOGLENET, "--input", size), 2)
    # Not merely "--input", which the command line holds: the parser's verdict on it.
    assert "Invalid value for --input: '" in output and "is not a size" in output


def test_no_spec_is_a_usage_error() -> None:
    output = exits(netspec("check"), 2)
    # Not any usage error (an unknown option exits 2 as well): this one.
    assert "Invalid value for SPEC...: give at least one spec file" in flat(output)


def reports_of(output: str) -> list[dict[str, Any]]:
    """The reports of `check --json`, which is always an object with a schema version."""
    document = json.loads(output)
    assert set(document) == {"schema_version", "reports"}
    assert document["schema_version"] == 1
    reports: list[dict[str, Any]] = document["reports"]
    return reports


def test_json_for_one_spec_keeps_the_fields_tools_read() -> None:
    (report,) = reports_of(exits(netspec("check", GOOGLENET, "--json"), 0))
    assert {
        "network",
        "input",
        "classes",
        "layers",
        "total_params",
        "total_params_with_aux",
        "total_macs",
        "diagnostics",
    } <= set(report)
    assert (report["network"], report["input"], report["classes"]) == (
        "googlenet",
        [224, 224, 3],
        1000,
    )
    assert report["total_params"] == 6_998_552
    assert report["total_params_with_aux"] == 13_378_280
    assert report["total_macs"] == 1_582_671_872
    assert report["diagnostics"] == []
    first = report["layers"][1]
    assert {"name", "kind", "line", "output", "params", "macs", "receptive_field"} <= set(first)
    assert (first["name"], first["kind"], first["line"]) == ("stem/conv1", "conv", 15)
    assert (first["output"], first["params"], first["macs"]) == ([112, 112, 64], 9472, 118_013_952)
    assert first["receptive_field"] == [7, 7]
    five_b = next(row for row in report["layers"] if row["name"] == "5b")
    assert five_b["output"] == [7, 7, 1024]


def test_json_has_every_field_of_the_table(write) -> None:
    path = write("conv 3x3 8 bn\ninception 3a 4/4-8/2-4/4\n" + CLASSIFIER)
    (report,) = reports_of(exits(netspec("check", path, "--json"), 0))
    layers = {layer["name"]: layer for layer in report["layers"]}
    conv = layers["conv1"]
    # `conv 3x3 8 bn` lowers to a conv, a batch norm and the activation that carries its name.
    assert (conv["kind"], conv["line"], conv["column"], conv["written_as"], conv["part_of"]) == (
        "activation",
        4,
        1,
        "conv",
        None,
    )
    parts = [layer for layer in report["layers"] if layer["part_of"] == "conv1"]
    assert [(layer["name"], layer["kind"]) for layer in parts] == [
        ("conv1/conv", "conv"),
        ("conv1/bn", "bn"),
    ]
    instance = layers["3a"]
    assert (instance["kind"], instance["written_as"]) == ("concat", "inception")
    assert (instance["line"], instance["column"]) == (5, 1)
    assert (instance["flat"], layers["dense1"]["flat"]) == (False, True)
    # The batch norm's moving mean and variance (8 channels each) are all that do not train.
    assert report["total_params"] - report["trainable_params"] == 2 * 8
    assert report["trainable_params_with_aux"] == report["trainable_params"]


def test_json_says_where_each_layer_stands_and_which_layers_a_warning_flags(write) -> None:
    path = write(
        snippet("""
            module pair(w):
              conv 1x1 w
              conv 3x3 w
            stage 2:
              pair p1 w=8
              branch: conv 1x1 8
              branch: maxpool 3x3/1 same
              conv 3x3 4
            """)
        + CLASSIFIER
    )
    (report,) = reports_of(exits(netspec("check", path, "--json"), 0))
    layers = {layer["name"]: layer for layer in report["layers"]}
    fields = ("section", "group", "instance", "module")
    assert [layers["p1/conv1"][f] for f in fields] == ["stage2", None, "p1", "pair"]
    assert [layers["stage2/g1/b2/maxpool1"][f] for f in fields] == [
        "stage2",
        "stage2/g1/concat",
        None,
        None,
    ]
    assert [layers["stage2/conv1"][f] for f in fields] == ["stage2", None, None, None]
    assert report["sections"] == [{"name": "stage2", "header": "stage 2", "line": 7}]
    # At 32x32, 5a and 5b slide their windows over the 1x1 map stage4/maxpool1 leaves.
    (googlenet,) = reports_of(exits(netspec("check", GOOGLENET, "--json", "--input", "32"), 1))
    (collapse,) = [d for d in googlenet["diagnostics"] if d["code"] == "collapse"]
    assert collapse["layers"][0] == "stage4/maxpool1"
    assert {"5a/b2/conv2", "5b/b3/conv2"} <= set(collapse["layers"])
    assert all(name.startswith(("stage4/", "5a/", "5b/")) for name in collapse["layers"])


def test_json_counts_trainable_parameters_with_aux_heads() -> None:
    (report,) = reports_of(exits(netspec("check", GOOGLENET, "--json"), 0))
    # GoogLeNet has no batch norm: every parameter trains, the aux heads' too.
    assert report["trainable_params"] == 6_998_552
    assert report["trainable_params_with_aux"] == 13_378_280


def test_json_on_a_file_that_does_not_parse_has_nulls(write) -> None:
    path = write("conv 3x3 64 )\n")
    (report,) = reports_of(exits(netspec("check", path, "--json"), 1))
    assert (report["network"], report["input"], report["classes"]) == (None, None, None)
    assert report["total_params"] is None and report["torchsummary"] is None
    assert [d["code"] for d in report["diagnostics"]] == ["syntax"]


def test_the_json_output_validates_against_the_printed_schema(write) -> None:
    schema = json.loads(exits(netspec("check", "--json-schema"), 0))
    Draft202012Validator.check_schema(schema)
    bad = write("conv 3x3 64 )\n", "bad.ns")
    output = exits(netspec("check", GOOGLENET, CIFAR_TRIMMED, bad, "--json"), 1)
    Draft202012Validator(schema).validate(json.loads(output))
    with pytest.raises(ValidationError):
        Draft202012Validator(schema).validate({"schema_version": 1, "reports": [{}]})


def test_json_diagnostics_carry_severity_code_message_line_and_column(write) -> None:
    path = write("conv 3x3 64 foo\n" + CLASSIFIER)
    (report,) = reports_of(exits(netspec("check", path, "--json"), 1))
    (diagnostic,) = report["diagnostics"]
    assert {key: diagnostic[key] for key in ("severity", "code", "message", "line", "column")} == {
        "severity": "error",
        "code": "unknown-option",
        "message": "unknown option 'foo' for conv",
        "line": 4,
        "column": 13,
    }


def test_json_for_several_specs_is_the_same_object() -> None:
    reports = reports_of(exits(netspec("check", GOOGLENET, CIFAR_TRIMMED, "--json"), 0))
    assert [r["network"] for r in reports] == ["googlenet", "cifar_trimmed"]


def test_input_changes_the_input_size() -> None:
    (report,) = reports_of(exits(netspec("check", GOOGLENET, "--json", "--input", "32x32x3"), 1))
    assert report["input"] == [32, 32, 3]
    assert ("collapse", 48, 3) in [
        (d["code"], d["line"], d["column"]) for d in report["diagnostics"]
    ]
    output = exits(netspec("check", GOOGLENET, "--input", "32x32x3"), 1)
    assert "input 32x32x3" in output
    assert f"{GOOGLENET}:48:3: warning[collapse]" in output
    assert f"{GOOGLENET}:31:5: error[window-too-large]" in output


def test_input_without_channels_keeps_the_specs() -> None:
    (report,) = reports_of(exits(netspec("check", GOOGLENET, "--json", "--input", "64x48"), 1))
    assert report["input"] == [64, 48, 3]


def test_an_input_sweep_prints_one_table_with_a_column_per_size() -> None:
    output = exits(netspec("check", GOOGLENET, "--input", "32,64,224"), 1)
    assert output.count("grid per stage by input size") == 1
    assert table_row(output, "stage") == ["stage", "32x32", "64x64", "224x224"]
    assert table_row(output, "5b") == ["5b", "1x1x1024", "2x2x1024", "7x7x1024"]
    assert table_row(output, "stage4/maxpool1") == [
        "stage4/maxpool1",
        "1x1x832",
        "2x2x832",
        "7x7x832",
    ]
    # Only the aux heads fail at 32 and 64: the inference model's totals still hold.
    assert table_row(output, "params") == ["params", *["6,998,552"] * 3]
    assert table_row(output, "errors / warnings") == [
        "errors / warnings",
        "2 / 3",
        "2 / 1",
        "0 / 0",
    ]
    assert "stem/conv1" not in output  # a sweep shows stages, not the layer table


def test_a_sweep_as_json_is_one_report_per_size() -> None:
    reports = reports_of(exits(netspec("check", GOOGLENET, "--json", "--input", "32,224"), 1))
    assert [r["input"] for r in reports] == [[32, 32, 3], [224, 224, 3]]


def test_no_layers_hides_the_table(write) -> None:
    path = write("conv 3x3 16\n" + CLASSIFIER)
    with_table = exits(netspec("check", path), 0)
    without = exits(netspec("check", path, "--no-layers"), 0)
    assert "conv1" in with_table and "conv1" not in without
    assert "parameters" in without


def test_all_layers_shows_branch_layers() -> None:
    compact = exits(netspec("check", GOOGLENET), 0)
    full = exits(netspec("check", GOOGLENET, "--all-layers"), 0)
    assert "3a/b2/conv2" not in compact and "3a/b2/conv2" in full
