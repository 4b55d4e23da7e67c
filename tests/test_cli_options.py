"""The parser validates every choice and bound of `netspec train` and `check`: a wrong value
is a usage error (exit 2) before TensorFlow loads; `--help` stays whole at 80 columns."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from compiler.cli import app
from tests.helpers import GOOGLENET, REPO
from tests.test_no_tensorflow import BLOCKER, run

FASHION = "specs/fashion_mnist.ns"


def flat(text: str) -> str:
    """Rich's error box, its borders and line breaks dropped."""
    return " ".join(text.replace("│", " ").split())


def test_an_unknown_dataset_exits_2_without_loading_tensorflow() -> None:
    script = BLOCKER + "from compiler.cli import app\napp()\n"
    result = run(script, "train", FASHION, "--dataset", "cifar1000")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "'--dataset': Value error, 'cifar1000' is not one of" in flat(result.stderr)
    assert "'cifar100'" in result.stderr and "'synthetic'" in result.stderr
    assert "is blocked" not in result.stderr  # nothing tried to import TensorFlow


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("--strategy", "mirorred"), "'--strategy': Value error, 'mirorred' is not one of"),
        (("--lr", "0"), "'--lr': 0 is not > 0"),
        (("--lr", "-0.1"), "'--lr': -0.1 is not > 0"),
        (("--epochs", "0"), "'--epochs': Input should be greater than or equal to 1"),
        (("--batch-size", "0"), "'--batch-size': Input should be greater than or equal to 1"),
        (("--seed", "-1"), "'--seed': Input should be greater than or equal to 0"),
        (("--steps-per-epoch", "0"), "'--steps-per-epoch': Input should be greater than"),
    ],
)
def test_values_the_config_would_reject_are_usage_errors(
    args: tuple[str, str], complaint: str
) -> None:
    result = CliRunner().invoke(app, ["train", FASHION, *args])
    assert result.exit_code == 2, result.output
    assert complaint in flat(result.stderr)


def test_an_unknown_check_format_is_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["check", str(GOOGLENET), "--format", "xml"])
    assert result.exit_code == 2, result.output
    assert "'xml' is not one of 'table', 'json', 'sarif'" in flat(result.stderr)


def option_names(command: str) -> list[str]:
    click_command = typer.main.get_command(app)
    params = click_command.commands[command].params  # type: ignore[attr-defined]
    return [name for param in params for name in (*param.opts, *param.secondary_opts)]


@pytest.mark.parametrize("command", ["train", "check"])
def test_help_at_80_columns_shows_every_option_name_whole(command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "netspec", command, "--help"],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "80"},
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    words = {word for line in lines for word in line.replace("│", " ").split()}
    names = [name for name in option_names(command) if name.startswith("--")]
    assert "--steps-per-execution" in names or command == "check"
    assert [name for name in names if name not in words] == []


def every_command_line() -> list[list[str]]:
    """`netspec`, every command and every subcommand, as typed before `--help`."""
    group = typer.main.get_command(app)
    lines: list[list[str]] = [[]]
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        lines.append([name])
        lines += [[name, sub] for sub in getattr(command, "commands", {})]
    return lines


def test_help_names_values_as_a_user_writes_them_and_flags_not_at_all() -> None:
    helps = {}
    for words in every_command_line():
        result = CliRunner().invoke(app, [*words, "--help"], terminal_width=100)
        assert result.exit_code == 0, result.output
        helps[" ".join(words)] = result.output
    assert {"check", "train", "data pack", "export"} <= set(helps)
    # Python's types say nothing to a user: `<list[Path]>`, `<bool>` (a flag), `<str>`.
    assert [
        line
        for text in helps.values()
        for line in text.splitlines()
        if "<bool>" in line or "<str>" in line or "list[" in line
    ] == []

    def row(command: str, name: str) -> list[str]:
        return next(line.split() for line in helps[command].splitlines() if f" {name} " in line)

    assert "[SPEC...]" in helps["check"] and row("check", "SPEC...")[1] == "SPEC..."
    assert row("check", "--input")[2] == "HxWxC,..." and row("graph", "--input")[2] == "HxWxC"
    assert row("train", "--data-service")[2] == "grpc://HOST:PORT"
    assert row("train", "--checkpoint-every")[2] == "N|Nm"
    assert row("check", "--json")[2] == "Same"  # the help, straight after the flag
