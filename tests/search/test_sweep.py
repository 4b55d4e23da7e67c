"""`netspec sweep`: every verdict holds when its configuration is written out and checked
alone, the counts add up, the Pareto front is the front, and the command's outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netspec.api import check_text
from netspec.cli import app
from netspec.diagnostics import NetspecError
from netspec.lowering.search import concrete
from netspec.sweep import MEASURED, VALID, Configuration, Sweep, space_of, sweep
from netspec.syntax.printer import print_spec
from tests.helpers import HEADER, REPO

runner = CliRunner()

# Twelve configurations, every kind of verdict: n=0 is an error (a repeat count of 0),
# s=4 twice repeated collapses the map, w=64 repeated breaks the parameter budget.
MIXED = (
    HEADER
    + """
search:
  s = 1 | 4
  n = 0..2
  w = 8 | 64
  params <= 20k

stem:
  conv 3x3/s w
  repeat n:
    conv 3x3/s w

head:
  gap
  dense classes
"""
)
ABLATION = REPO / "examples" / "cifar_ablation.ns"


@pytest.fixture(scope="module")
def mixed() -> Sweep:
    return sweep(MIXED, "mixed.ns", workers=1)


def alone(text: str, configuration: Configuration) -> str:
    spec, _ = space_of(text, "<spec>")
    return print_spec(concrete(spec, configuration.values))


def assert_verdict_holds_alone(text: str, configuration: Configuration) -> None:
    """The configuration's spec, checked by itself, is valid or fails for the reason given."""
    _, space = space_of(text, "<spec>")
    report = check_text(alone(text, configuration))
    found = {d.code for d in report.diagnostics if d.is_error}
    warned = {d.code for d in report.diagnostics}
    budgets = {f"{b.measure} <= {b.limit}": b for b in space.budgets}
    if configuration.verdict == VALID:
        assert not found and "collapse" not in warned, report.diagnostics
        assert report.totals is not None
        assert report.totals.params == configuration.total_params
        assert report.totals.macs == configuration.total_macs
        for budget in space.budgets:
            measured = MEASURED[budget.measure](report.totals)
            assert measured is not None and measured <= budget.value
    elif configuration.verdict in budgets:
        budget = budgets[configuration.verdict]
        assert not found and "collapse" not in warned
        assert report.totals is not None
        measured = MEASURED[budget.measure](report.totals)
        assert measured is not None and measured > budget.value
    elif configuration.verdict == "collapse":
        assert not found and "collapse" in warned
    else:
        assert configuration.verdict in found, (configuration.verdict, found)


def test_every_kind_of_verdict_is_counted(mixed: Sweep) -> None:
    assert mixed.size == 12 == len(mixed.configurations)
    verdicts = [c.verdict for c in mixed.configurations]
    assert set(verdicts) == {VALID, "invalid-value", "collapse", "params <= 20k"}
    assert mixed.valid == verdicts.count(VALID)
    assert mixed.rejected == {reason: verdicts.count(reason) for reason in set(verdicts) - {VALID}}
    assert sum(mixed.rejected.values()) + mixed.valid == mixed.size
    assert verdicts.count("invalid-value") == 4  # n=0, whatever s and w


def test_every_verdict_of_the_mixed_space_holds_alone(mixed: Sweep) -> None:
    for configuration in mixed.configurations:
        assert_verdict_holds_alone(MIXED, configuration)


def test_a_sample_of_the_ablation_holds_alone() -> None:
    text = ABLATION.read_text(encoding="utf-8")
    result = sweep(text, str(ABLATION))
    valid = [c for c in result.configurations if c.valid]
    rejected = [c for c in result.configurations if not c.valid]
    assert valid and rejected and {c.verdict for c in rejected} >= {"collapse"}
    for configuration in valid[::3] + rejected[::2]:
        assert_verdict_holds_alone(text, configuration)


def test_workers_agree_with_one_process(mixed: Sweep) -> None:
    assert sweep(MIXED, "mixed.ns", workers=2) == mixed


def test_the_pareto_front(mixed: Sweep) -> None:
    valid = [c for c in mixed.configurations if c.valid]
    front = [c for c in valid if c.values in mixed.pareto_front]
    assert front and len(front) == len(mixed.pareto_front)

    def beats(a: Configuration, b: Configuration) -> bool:
        pa, ma, pb, mb = a.total_params, a.total_macs, b.total_params, b.total_macs
        assert pa is not None and ma is not None and pb is not None and mb is not None
        return pa <= pb and ma <= mb and (pa, ma) != (pb, mb)

    for member in front:
        assert not any(beats(other, member) for other in valid)
    for other in valid:
        if other not in front:
            assert any(beats(member, other) for member in front)


def test_valid_ones_list_by_macs(mixed: Sweep) -> None:
    macs = [c.total_macs or 0 for c in mixed.valid_by_macs()]
    assert macs == sorted(macs) and len(macs) == mixed.valid


def test_smallest_grid(mixed: Sweep) -> None:
    by_values = {tuple(c.values.values()): c for c in mixed.configurations}
    assert by_values[(1, 1, 8)].smallest_grid == (32, 32)
    assert by_values[(4, 1, 8)].smallest_grid == (2, 2)  # 32 -> 8 -> 2


def test_the_command_json_and_output_folder(tmp_path: Path) -> None:
    spec = tmp_path / "mixed.ns"
    spec.write_text(MIXED, encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(spec), "--json", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["configurations"]) == 12
    first = data["configurations"][0]
    assert first["values"] == {"s": 1, "n": 0, "w": 8} and first["verdict"] == "invalid-value"
    assert set(data["rejected"]) == {"invalid-value", "collapse", "params <= 20k"}
    written = sorted(path.name for path in (tmp_path / "out").iterdir())
    valid = [c for c in data["configurations"] if c["verdict"] == VALID]
    assert len(written) == len(valid)
    assert "mixed_s1_n1_w8.ns" in written
    text = (tmp_path / "out" / "mixed_s1_n1_w8.ns").read_text(encoding="utf-8")
    assert "search" not in text and "conv 3x3/1 8" in text
    assert not check_text(text).diagnostics


def test_the_command_table_and_limit(tmp_path: Path) -> None:
    spec = tmp_path / "mixed.ns"
    spec.write_text(MIXED, encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(spec), "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "12 configuration(s)" in result.output and "rejected, by reason" in result.output
    assert "params <= 20k" in result.output and "Pareto front" in result.output
    assert "(the first 1 of" in result.output


def test_a_spec_without_a_search_section_is_no_space() -> None:
    with pytest.raises(NetspecError) as raised:
        space_of(HEADER + "conv 3x3 8\ngap\ndense classes\n", "<spec>")
    assert [d.code for d in raised.value.diagnostics] == ["no-search"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (HEADER + "conv 3x3 8\ngap\ndense classes\n", "no `search:` section"),
        (HEADER + "search:\n  w = 8 | 16\nconv 3x3 8\ngap\ndense classes\n", "search-unused"),
    ],
)
def test_a_space_that_cannot_be_swept(tmp_path: Path, text: str, words: str) -> None:
    spec = tmp_path / "bad.ns"
    spec.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(spec)])
    assert result.exit_code == 1
    assert words in result.output
