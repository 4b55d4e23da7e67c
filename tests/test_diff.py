"""`netspec diff`: two specs, or one at two input sizes, section by section.

The expected figures come from each side's own `check --json` report, added up here by
section, never from the diff's code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from jsonschema import Draft202012Validator

from tests.helpers import CIFAR_TRIMMED, GOOGLENET, REPO, flat
from tests.test_cli import netspec, table_row
from tests.test_no_tensorflow import BLOCKER, run


def exits(result: Result, code: int) -> Result:
    """The result, for its stdout and stderr apart; the output is the failure's message."""
    assert result.exit_code == code, result.output
    return result


def report(spec: Path, *options: str) -> dict[str, Any]:
    """The spec's one report from `check --json`."""
    output = netspec("check", spec, "--json", *options).stdout
    reports: list[dict[str, Any]] = json.loads(output)["reports"]
    assert len(reports) == 1
    return reports[0]


def stages(checked: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per section, from the check report's layers: the last layer's output and receptive
    field, and the parameters and multiply-adds of every layer in it (aux heads' layers
    carry their own section)."""
    figures: dict[str, dict[str, Any]] = {}
    for layer in checked["layers"]:
        if layer["role"] == "aux":
            continue
        stage = figures.setdefault(layer["section"], {"params": 0, "macs": 0})
        stage["params"] += layer["params"]
        stage["macs"] += layer["macs"]
        stage["output"] = layer["output"]
        stage["receptive_field"] = layer["receptive_field"]
    return figures


def diff_json(*args: str | Path, code: int = 0) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(exits(netspec("diff", *args, "--json"), code).stdout)
    assert document["schema_version"] == 1
    return document


def by_section(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {section["name"]: section for section in document["sections"]}


def test_googlenet_against_cifar_trimmed_per_stage() -> None:
    a, b = stages(report(GOOGLENET)), stages(report(CIFAR_TRIMMED))
    assert set(a) == set(b) == {"", "stem", "stage3", "stage4", "stage5", "head"}
    sections = by_section(diff_json(GOOGLENET, CIFAR_TRIMMED))
    assert list(sections) == ["", "stem", "stage3", "stage4", "stage5", "head"]
    for name, section in sections.items():
        for side, figures in (("a", a[name]), ("b", b[name])):
            assert list(section[side]["output"]) == figures["output"], (name, side)
            assert section[side]["params"] == figures["params"], (name, side)
            assert section[side]["macs"] == figures["macs"], (name, side)
            assert list(section[side]["receptive_field"]) == figures["receptive_field"]
        change = section["change"]
        assert change["params"] == b[name]["params"] - a[name]["params"]
        assert change["macs"] == b[name]["macs"] - a[name]["macs"]
        assert change["channels"] == b[name]["output"][2] - a[name]["output"][2]
        assert change["grid"] == (a[name]["output"][:2] != b[name]["output"][:2])
    # The trimmed stem keeps 32x32 where GoogLeNet's has pooled 224 down to 28.
    assert sections["stem"]["change"]["grid"] and sections["stage3"]["status"] == "changed"

    table = exits(netspec("diff", GOOGLENET, CIFAR_TRIMMED), 0).stdout
    for name in ("stem", "stage3", "stage4", "stage5"):
        height, width, channels = a[name]["output"]
        b_height, b_width, b_channels = b[name]["output"]
        change = b[name]["params"] - a[name]["params"]
        assert table_row(table, name)[1:6] == [
            f"{height}x{width}x{channels}",
            f"{b_height}x{b_width}x{b_channels}",
            f"{a[name]['params']:,}",
            f"{b[name]['params']:,}",
            f"{change:+,}",
        ]


def test_totals_are_each_reports_totals() -> None:
    checked_a, checked_b = report(GOOGLENET), report(CIFAR_TRIMMED)
    totals = diff_json(GOOGLENET, CIFAR_TRIMMED)["totals"]
    assert totals["params"] == {
        "a": checked_a["total_params"],
        "b": checked_b["total_params"],
        "change": checked_b["total_params"] - checked_a["total_params"],
    }
    assert totals["macs"]["change"] == checked_b["total_macs"] - checked_a["total_macs"]
    assert totals["aux_params"]["a"] == checked_a["aux_params"] > 0


def test_one_spec_at_two_sizes() -> None:
    at_224, at_32 = report(GOOGLENET), report(GOOGLENET, "--input", "32x32x3")
    # GoogLeNet cannot build its aux heads at 32x32: an error, and still a diff.
    document = diff_json(GOOGLENET, "--input", "224x224x3", "--vs-input", "32x32x3", code=1)
    assert document["a"]["input"] == [224, 224, 3] and document["b"]["input"] == [32, 32, 3]
    assert document["b"]["errors"] == sum(d["severity"] == "error" for d in at_32["diagnostics"])
    sections = by_section(document)
    for name, figures in stages(at_32).items():
        assert list(sections[name]["b"]["output"]) == figures["output"], name
        assert sections[name]["change"]["params"] == 0, name  # the same layers
    assert sections["stage5"]["a"]["output"] == stages(at_224)["stage5"]["output"]


def test_the_diagnostics_each_side_has_and_the_other_has_not() -> None:
    at_224, at_32 = report(GOOGLENET), report(GOOGLENET, "--input", "32x32x3")
    document = diff_json(GOOGLENET, "--vs-input", "32x32x3", code=1)
    assert at_224["diagnostics"] == [] and document["only_in_a"] == []
    new = {(d["code"], d["line"]) for d in at_32["diagnostics"]}
    assert {(d["code"], d["line"]) for d in document["only_in_b"]} == new
    assert "collapse" in {code for code, _ in new}

    result = exits(netspec("diff", GOOGLENET, "--vs-input", "32x32x3"), 1)
    assert "only in A (" in result.stdout and "no diagnostics" in result.stdout
    collapse = next(d for d in at_32["diagnostics"] if d["code"] == "collapse")
    assert (
        f"{GOOGLENET}:{collapse['line']}:{collapse['column']}: warning[collapse]: "
        f"{collapse['message']}"
    ) in result.stdout
    # The errors are pinpointed on stderr, as `check` prints them.
    assert "error[window-too-large]" in result.stderr and "^^^" in result.stderr


def test_a_finding_on_the_same_layers_is_the_same_whatever_its_figures() -> None:
    at = {size: report(GOOGLENET, "--input", size) for size in ("24x24x3", "28x28x3", "32x32x3")}

    def findings(size: str) -> list[tuple[str, str]]:
        return sorted((d["code"], d["layers"][0]) for d in at[size]["diagnostics"])

    # 28 and 32 flag the same layers with the same codes, in words that name the size.
    assert findings("28x28x3") == findings("32x32x3")
    messages = ({d["message"] for d in at[size]["diagnostics"]} for size in ("28x28x3", "32x32x3"))
    assert next(messages) != next(messages)
    document = diff_json(GOOGLENET, "--input", "28x28x3", "--vs-input", "32x32x3", code=1)
    assert document["only_in_a"] == document["only_in_b"] == []

    # At 24 the receptive field covers the input one layer earlier: a finding of its own.
    only_24 = set(findings("24x24x3")) - set(findings("32x32x3"))
    only_32 = set(findings("32x32x3")) - set(findings("24x24x3"))
    assert {code for code, _ in only_24 | only_32} == {"receptive-field"}
    document = diff_json(GOOGLENET, "--input", "24x24x3", "--vs-input", "32x32x3", code=1)
    assert {(d["code"], d["layers"][0]) for d in document["only_in_a"]} == only_24
    assert {(d["code"], d["layers"][0]) for d in document["only_in_b"]} == only_32


SPEC_A = """\
network small
input 32x32x3
classes 10
stem:
  conv 3x3 16
  maxpool 2x2/2
stage body:
  conv 3x3 32
head:
  gap
  dense classes
"""

SPEC_B = """\
network small
input 32x32x3
classes 10
stem:
  conv 3x3 16
  conv 3x3 16
stage body:
  conv 3x3 32
stage extra:
  conv 3x3 64
head:
  gap
  dense classes
"""


@pytest.fixture
def two_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.chdir(tmp_path)
    a, b = Path("a.ns"), Path("b.ns")
    a.write_text(SPEC_A, encoding="utf-8")
    b.write_text(SPEC_B, encoding="utf-8")
    return a, b


def test_rows_only_in_one_side_are_added_or_removed_in_place(two_specs) -> None:
    sections = by_section(diff_json(*two_specs))
    # B's own rows stand after the row they follow in B, A's order kept.
    assert [(row["name"], row["status"]) for row in sections["stem"]["rows"]] == [
        ("stem/conv1", "same"),
        ("stem/conv2", "added"),
        ("stem/maxpool1", "removed"),
    ]
    assert sections["stem"]["rows"][1]["a"] is None
    assert sections["stem"]["rows"][2]["b"] is None
    assert sections["stem"]["rows"][2]["change"] is None
    assert list(sections) == ["", "stem", "body", "extra", "head"]
    assert sections["extra"]["status"] == "added" and sections["extra"]["a"] is None
    # The pool is gone, so the body's conv runs on 32x32 instead of 16x16.
    body = sections["body"]["rows"][0]
    assert body["status"] == "changed" and body["change"]["grid"]

    table = exits(netspec("diff", *two_specs, "--layers"), 0).stdout
    assert table_row(table, "+ stem/conv2")[2] == "32x32x16"
    assert table_row(table, "- stem/maxpool1")[1:3] == ["16x16x16", ""]
    assert table_row(table, "+ extra")[1] == ""
    # Without --layers, one row per section.
    sections_only = exits(netspec("diff", *two_specs), 0).stdout
    assert "stem/conv2" not in sections_only and table_row(sections_only, "+ extra")


def test_the_json_validates_against_the_printed_schema(two_specs) -> None:
    schema = json.loads(exits(netspec("diff", "--json-schema"), 0).stdout)
    Draft202012Validator(schema).validate(diff_json(*two_specs))


def test_a_spec_with_errors_exits_1_with_file_line_column(two_specs) -> None:
    a, _ = two_specs
    a.write_text(SPEC_A.replace("conv 3x3 32", "conv 3x3 0"), encoding="utf-8")
    result = exits(netspec("diff", *two_specs), 1)
    assert f"{a}:8:12: error[invalid-value]" in result.stderr
    assert result.stdout == ""  # A did not lower: nothing to set beside B


def test_diff_runs_with_tensorflow_and_keras_unimportable() -> None:
    script = BLOCKER + "from netspec.cli import app\napp()\n"
    specs = (GOOGLENET.relative_to(REPO), CIFAR_TRIMMED.relative_to(REPO))
    result = run(script, "diff", *specs, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    params = json.loads(result.stdout)["totals"]["params"]
    assert (params["a"], params["b"]) == (
        report(GOOGLENET)["total_params"],
        report(CIFAR_TRIMMED)["total_params"],
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Invalid value for A: give the spec to compare from"),
        ((GOOGLENET,), "Invalid value for B: give a second spec, or --vs-input"),
        (
            (GOOGLENET, "--vs-input", "32,64"),
            "Invalid value for --vs-input: compare one input size at a time",
        ),
        ((GOOGLENET, "--vs-input", "3x"), "Invalid value for --vs-input: '3x' is not a size"),
        ((GOOGLENET, CIFAR_TRIMMED, GOOGLENET), "unexpected extra argument"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str | Path, ...], message: str) -> None:
    assert message in flat(exits(netspec("diff", *args), 2).output)
