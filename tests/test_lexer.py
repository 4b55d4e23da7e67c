"""The Pygments lexer: each kind of word in a spec gets its own token type, and the
highlighted diagnostics change nothing when output is piped."""

from __future__ import annotations

import importlib
import io
import re

from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String
from rich.console import Console

from netspec.api import check_text
from netspec.lexer import NetspecLexer
from netspec.pinpoint import pinpoint
from netspec.render import print_diagnostics
from tests.helpers import REPO, snippet

SAMPLE = snippet(
    """
    network cifar   # a comment
    input 32x32x3
    module block(n1, s=1):
      branch: conv 1x1/s n1 valid
      branch: identity
      merge add relu
    inception 3a 64/96-128/16-32/32
    block b1 n1=64
    dropout 0.4
    train:
      dataset folder "data/images"
      weight_decay 5e-4
    """
)


def tokens(text: str) -> list[tuple[object, str]]:
    return [(kind, value) for kind, value in NetspecLexer().get_tokens(text) if value.strip()]


def test_every_kind_of_word_gets_its_token() -> None:
    assert tokens(SAMPLE) == [
        (Keyword, "network"), (Name, "cifar"), (Comment.Single, "# a comment"),
        (Keyword, "input"), (Number.Other, "32x32x3"),
        (Keyword.Declaration, "module"), (Name.Class, "block"), (Punctuation, "("),
        (Name.Variable, "n1"), (Punctuation, ","), (Name.Variable, "s"), (Operator, "="),
        (Number, "1"), (Punctuation, ")"), (Punctuation, ":"),
        (Keyword, "branch"), (Punctuation, ":"), (Name.Builtin, "conv"),
        (Number.Other, "1x1/s"), (Name, "n1"), (Keyword.Constant, "valid"),
        (Keyword, "branch"), (Punctuation, ":"), (Name.Builtin, "identity"),
        (Keyword, "merge"), (Keyword.Constant, "add"), (Name.Builtin, "relu"),
        (Keyword, "inception"), (Name.Label, "3a"), (Number.Integer, "64"), (Punctuation, "/"),
        (Number.Integer, "96"), (Punctuation, "-"), (Number.Integer, "128"),
        (Punctuation, "/"), (Number.Integer, "16"), (Punctuation, "-"), (Number.Integer, "32"),
        (Punctuation, "/"), (Number.Integer, "32"),
        (Name, "block"), (Name, "b1"), (Name.Attribute, "n1"), (Operator, "="),
        (Number.Integer, "64"),
        (Name.Builtin, "dropout"), (Number.Float, "0.4"),
        (Keyword, "train"), (Punctuation, ":"),
        (Name, "dataset"), (Name, "folder"), (String.Double, '"data/images"'),
        (Name, "weight_decay"), (Number.Float, "5e-4"),
    ]  # fmt: skip


def test_a_word_that_only_starts_like_a_layer_word_is_a_name() -> None:
    assert tokens("conv2 3x3\nconvx\n") == [
        (Name, "conv2"), (Number.Other, "3x3"), (Name, "convx"),
    ]  # fmt: skip


def test_arithmetic_and_the_third_editions_words() -> None:
    assert tokens("dwconv (k)x(k)/s\nconv 1x1 (c_in//4)\nlayerscale 1e-6\n") == [
        (Name.Builtin, "dwconv"), (Punctuation, "("), (Name, "k"), (Punctuation, ")"),
        (Name, "x"), (Punctuation, "("), (Name, "k"), (Punctuation, ")"), (Punctuation, "/"),
        (Name, "s"),
        (Name.Builtin, "conv"), (Number.Other, "1x1"), (Punctuation, "("), (Name, "c_in"),
        (Operator, "//"), (Number.Integer, "4"), (Punctuation, ")"),
        (Name.Builtin, "layerscale"), (Number.Float, "1e-6"),
    ]  # fmt: skip
    assert (Operator, "*") in tokens("conv 3x3 w*4\n")


def test_the_lexer_gives_back_the_text_it_was_given() -> None:
    text = (REPO / "specs" / "inception_v4.ns").read_text()
    assert "".join(value for _, value in NetspecLexer().get_tokens(text)) == text


def test_the_entry_point_names_the_lexer() -> None:
    # tomllib is Python 3.11+; the project supports 3.10.
    entry = re.search(
        r'\[project\.entry-points\."pygments\.lexers"\]\nnetspec = "([\w.]+):(\w+)"',
        (REPO / "pyproject.toml").read_text(),
    )
    assert entry is not None
    module, attribute = entry.groups()
    assert getattr(importlib.import_module(module), attribute) is NetspecLexer
    assert "*.ns" in NetspecLexer.filenames


BAD = "network t\ninput 32x32x3\nclasses 10\nconv 3x3 64 vallid\n"


def diagnostics_output(terminal: bool) -> str:
    report = check_text(BAD, "bad.ns")
    out = io.StringIO()
    # A StringIO is no terminal: unforced, the console writes as it would into a pipe.
    colours = "standard" if terminal else "auto"
    console = Console(
        file=out, force_terminal=terminal or None, color_system=colours, soft_wrap=True
    )
    print_diagnostics(console, report.diagnostics, BAD)
    return out.getvalue()


def test_piped_diagnostics_are_the_plain_text() -> None:
    report = check_text(BAD, "bad.ns")
    assert diagnostics_output(terminal=False) == pinpoint(report.diagnostics[0], BAD) + "\n"


def test_a_terminal_sees_the_quoted_line_coloured() -> None:
    coloured = diagnostics_output(terminal=True)
    quoted = next(line for line in coloured.splitlines() if line.startswith("4 | "))
    assert "\x1b[" in quoted
    # The colour codes are all that was added: without them the line is the spec's.
    assert "".join(part.split("m", 1)[-1] for part in quoted.split("\x1b[")) == (
        "4 | conv 3x3 64 vallid"
    )
