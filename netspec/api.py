"""The front end as a library: text -> AST -> IR -> report, each stage callable on its own."""

from __future__ import annotations

import re
from pathlib import Path

from netspec.analysis.analyse import analyse
from netspec.analysis.report import Report
from netspec.diagnostics import Diagnostic, NetspecError, error
from netspec.ir import Network
from netspec.lowering import lower
from netspec.syntax.parser import parse

__all__ = [
    "NetspecError",
    "Network",
    "check_file",
    "check_network",
    "check_text",
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


def compile_text(text: str, file: str = "<spec>", input_size: InputSize | None = None) -> Network:
    """Parse and lower; raise NetspecError with every diagnostic found."""
    try:
        return lower(parse(text, file), file, input_size)
    except RecursionError:
        # The parse tree and the expansion recurse once per nested block or module use.
        raise NetspecError(_too_deep(text, file)) from None


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


def check_text(text: str, file: str = "<spec>", input_size: InputSize | None = None) -> Report:
    """Everything `netspec check` reports; spec problems become diagnostics, never exceptions."""
    return check_network(text, file, input_size)[1]


def check_network(
    text: str, file: str = "<spec>", input_size: InputSize | None = None
) -> tuple[Network | None, Report]:
    """The network (None if it does not compile) and its report, parsed and analysed once."""
    try:
        network = compile_text(text, file, input_size)
    except NetspecError as exc:
        return None, Report.model_construct(
            network="",
            file=file,
            input=_known(input_size),
            classes=0,
            layers=(),
            totals=None,
            diagnostics=exc.diagnostics,
        )
    report = analyse(network)
    kept = tuple(d for d in report.diagnostics if not _allowed(d, text))
    if kept != report.diagnostics:
        report = report.model_copy(update={"diagnostics": kept})
    return network, report


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


def check_file(path: str | Path, input_size: InputSize | None = None) -> Report:
    try:
        text = read_spec(path)
    except NetspecError as exc:
        return Report.model_construct(
            network="",
            file=str(path),
            input=_known(input_size),
            classes=0,
            layers=(),
            totals=None,
            diagnostics=exc.diagnostics,
        )
    return check_text(text, str(path), input_size)


def _known(input_size: InputSize | None) -> tuple[int, int, int]:
    if input_size is None:
        return (0, 0, 0)
    return (input_size[0], input_size[1], input_size[2] or 0)
