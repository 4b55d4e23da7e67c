"""The front end as a library: text -> AST -> IR -> report, each stage callable on its own."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from netspec.analysis.analyse import analyse
from netspec.analysis.report import Report
from netspec.diagnostics import Diagnostic, NetspecError, error
from netspec.ir import Network
from netspec.lowering import lower, lower_as_far_as_possible
from netspec.syntax import ast
from netspec.syntax.parser import parse

__all__ = [
    "Checked",
    "NetspecError",
    "Network",
    "check",
    "check_file",
    "check_path",
    "check_text",
    "check_tree",
    "compile_file",
    "compile_text",
    "read_spec",
]

# H, W and C; C may be None to keep the spec's own channel count.
InputSize = tuple[int, int, int | None]


def read_spec(path: str | Path) -> str:
    """The spec's text; a missing, unreadable or non-UTF-8 file is a NetspecError."""
    file = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NetspecError(error("file-not-found", f"no such spec file: {file}", file)) from None
    except OSError as exc:
        raise NetspecError(
            error("unreadable", f"cannot read {file}: {exc.strerror}", file)
        ) from None
    try:
        # Editors on Windows may start UTF-8 files with a byte-order mark; it is not text.
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        # Everything before the bad byte decoded, so the column can count characters.
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8")) + 1
        raise NetspecError(
            error("encoding", "the spec is not UTF-8 text", file, line, column)
        ) from None


@dataclass(frozen=True)
class Checked:
    """A spec read, parsed, lowered and analysed once, with what each stage made: a command
    that needs the text, the syntax tree or the network besides the report takes them here
    instead of doing the work again. What a stage could not make is None."""

    text: str | None
    spec: ast.Spec | None
    network: Network | None
    report: Report


@contextmanager
def _not_too_deep(text: str, file: str) -> Iterator[None]:
    try:
        yield
    except RecursionError:
        # The parse tree and the expansion recurse once per nested block or module use.
        raise NetspecError(_too_deep(text, file)) from None


def compile_text(text: str, file: str = "<spec>", input_size: InputSize | None = None) -> Network:
    """Parse and lower; raise NetspecError with every diagnostic found."""
    with _not_too_deep(text, file):
        network = lower(parse(text, file), file, input_size)
    return network


def _too_deep(text: str, file: str) -> Diagnostic:
    lines = text.split("\n")
    depths = [len(line) - len(line.lstrip(" ")) for line in lines]
    deepest = max(range(len(lines)), key=depths.__getitem__)
    return error(
        "too-large",
        "the spec nests too deeply to expand (blocks inside blocks, or modules using modules)",
        file,
        deepest + 1,
        depths[deepest] + 1,
    )


def compile_file(path: str | Path, input_size: InputSize | None = None) -> Network:
    return compile_text(read_spec(path), str(path), input_size)


def check(text: str, file: str = "<spec>", input_size: InputSize | None = None) -> Checked:
    """Parse, lower and analyse once; spec problems become diagnostics, never exceptions."""
    try:
        with _not_too_deep(text, file):
            spec = parse(text, file)
    except NetspecError as exc:
        return Checked(text, None, None, _unchecked(file, input_size, exc.diagnostics))
    return check_tree(spec, text, file, input_size)


def check_tree(
    spec: ast.Spec,
    text: str,
    file: str = "<spec>",
    input_size: InputSize | None = None,
    configuration: Mapping[str, int | float] | None = None,
) -> Checked:
    """`check` of a parsed spec (its text read for `# allow:`), at one configuration of its
    `search:` section (default: the first): what `netspec sweep` runs once per configuration."""
    try:
        with _not_too_deep(text, file):
            network, problems = lower_as_far_as_possible(spec, file, input_size, configuration)
    except NetspecError as exc:
        return Checked(text, spec, None, _unchecked(file, input_size, exc.diagnostics))
    if problems:
        # What did lower is analysed too, so one run says every error it can; the analysis
        # skips whatever a failed statement feeds, so one mistake is one error.
        found = analyse(network).diagnostics if network is not None else ()
        everything = sorted(dict.fromkeys((*problems, *found)), key=lambda d: (d.line, d.column))
        kept = tuple(d for d in everything if not _allowed(d, text))
        return Checked(text, spec, None, _unchecked(file, input_size, kept))
    assert network is not None
    report = analyse(network)
    kept = tuple(d for d in report.diagnostics if not _allowed(d, text))
    if kept != report.diagnostics:
        report = report.model_copy(update={"diagnostics": kept})
    return Checked(text, spec, network, report)


def check_text(text: str, file: str = "<spec>", input_size: InputSize | None = None) -> Report:
    """Everything `netspec check` reports."""
    return check(text, file, input_size).report


_ALLOW = re.compile(r"#.*\ballow:\s*([\w\-, ]+)")


def _allowed(diagnostic: Diagnostic, text: str) -> bool:
    """A warning whose source line says `# allow: CODE` is one the author has weighed.

    Errors cannot be allowed: they are what cannot build.
    """
    if diagnostic.is_error or not diagnostic.line:
        return False
    lines = text.split("\n")
    if diagnostic.line > len(lines):
        return False
    match = _ALLOW.search(lines[diagnostic.line - 1])
    return match is not None and diagnostic.code in {c.strip() for c in match.group(1).split(",")}


def check_path(path: str | Path, input_size: InputSize | None = None) -> Checked:
    """`check` on a file; one that cannot be read is a report of that, with no text."""
    try:
        text = read_spec(path)
    except NetspecError as exc:
        return Checked(None, None, None, _unchecked(str(path), input_size, exc.diagnostics))
    return check(text, str(path), input_size)


def check_file(path: str | Path, input_size: InputSize | None = None) -> Report:
    return check_path(path, input_size).report


def _unchecked(
    file: str, input_size: InputSize | None, diagnostics: tuple[Diagnostic, ...]
) -> Report:
    """The report of a spec that did not lower: its diagnostics, and no figures."""
    height, width, channels = input_size or (0, 0, 0)
    return Report.model_construct(
        network="",
        file=file,
        input=(height, width, channels or 0),
        classes=0,
        layers=(),
        totals=None,
        diagnostics=diagnostics,
    )
