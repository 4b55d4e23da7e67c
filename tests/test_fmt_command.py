"""`netspec fmt` through Typer's CliRunner, on real files: in place, --check, --diff, folders,
specs that do not parse, and a rewrite that would change a spec's meaning."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from netspec import formatting
from netspec.cli import app
from tests.helpers import CLASSIFIER, HEADER

runner = CliRunner()

MESSY = HEADER + "stem:\n    conv 3x3 8 relu   valid # the stem\n" + CLASSIFIER
# The trailing comment in column 39.
CONV = "  conv 3x3 8 valid relu".ljust(38) + "# the stem\n"
CANONICAL = HEADER + "\nstem:\n" + CONV + "\n" + CLASSIFIER


def netspec(*args: str | Path) -> Result:
    return runner.invoke(app, ["fmt", *(str(arg) for arg in args)])


def exits(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.output


@pytest.fixture
def specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with a messy spec, a formatted one, one in a subfolder and a non-spec."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nested").mkdir()
    (tmp_path / "messy.ns").write_text(MESSY, encoding="utf-8")
    (tmp_path / "tidy.ns").write_text(CANONICAL, encoding="utf-8")
    (tmp_path / "nested" / "deep.ns").write_text(MESSY, encoding="utf-8")
    (tmp_path / "notes.txt").write_text("conv   3x3\n", encoding="utf-8")
    return tmp_path


def test_rewrites_in_place_and_then_has_nothing_to_do(specs: Path) -> None:
    exits(netspec("messy.ns", "tidy.ns"), 0)
    assert (specs / "messy.ns").read_text(encoding="utf-8") == CANONICAL
    assert (specs / "tidy.ns").read_text(encoding="utf-8") == CANONICAL
    exits(netspec("--check", "messy.ns"), 0)


def test_check_names_the_files_that_would_change_and_writes_nothing(specs: Path) -> None:
    output = exits(netspec("--check", "."), 1)
    assert "would reformat messy.ns" in output
    assert "would reformat nested/deep.ns" in output
    assert "tidy.ns" not in output
    assert "notes.txt" not in output
    assert (specs / "messy.ns").read_text(encoding="utf-8") == MESSY
    exits(netspec("--check", "tidy.ns"), 0)


def test_diff_prints_the_change_and_writes_nothing(specs: Path) -> None:
    output = exits(netspec("--diff", "messy.ns"), 1)
    assert "-    conv 3x3 8 relu   valid # the stem\n" in output
    assert "+" + CONV in output
    assert "--- messy.ns (as written)" in output
    assert (specs / "messy.ns").read_text(encoding="utf-8") == MESSY


def test_a_folder_is_searched_for_specs(specs: Path) -> None:
    exits(netspec("."), 0)
    assert (specs / "nested" / "deep.ns").read_text(encoding="utf-8") == CANONICAL
    assert (specs / "notes.txt").read_text(encoding="utf-8") == "conv   3x3\n"


def test_a_spec_that_does_not_parse_is_a_diagnostic_and_the_rest_are_formatted(
    specs: Path,
) -> None:
    (specs / "broken.ns").write_text(HEADER + "conv 3x3 8 ->\n", encoding="utf-8")
    output = exits(netspec("broken.ns", "messy.ns"), 1)
    assert "broken.ns:4:14: error[syntax]" in output
    assert "Traceback" not in output
    assert (specs / "broken.ns").read_text(encoding="utf-8") == HEADER + "conv 3x3 8 ->\n"
    assert (specs / "messy.ns").read_text(encoding="utf-8") == CANONICAL


def test_usage_errors(specs: Path) -> None:
    assert "give at least one spec file" in exits(netspec(), 2)
    assert "no such file or folder: gone.ns" in exits(netspec("gone.ns"), 2)


def test_a_rewrite_that_would_change_the_network_is_refused(
    specs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def wider(spec: object) -> str:
        return CANONICAL.replace("conv 3x3 8", "conv 3x3 9")

    monkeypatch.setattr(formatting, "print_spec", wider)
    output = exits(netspec("messy.ns"), 1)
    assert "messy.ns: formatting would change what the spec means" in output
    assert (specs / "messy.ns").read_text(encoding="utf-8") == MESSY


def test_a_rewrite_that_would_drop_a_comment_is_refused(
    specs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formatting, "print_spec", lambda spec: CANONICAL.replace("# the stem", ""))
    exits(netspec("messy.ns"), 1)
    assert (specs / "messy.ns").read_text(encoding="utf-8") == MESSY
