"""A command, or a keystroke in the editor, parses the spec once and runs its rules once:
everything after reads what that pass produced. Counted where every route must go: Lark's
parse, and the input layer's rule, which each walk of the layer rules starts with."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lark import Lark
from lsprotocol import types
from typer.testing import CliRunner

from netspec.cli import app
from netspec.ir import Facts, InputLayer
from netspec.lsp.server import SpecServer, build_server
from tests.helpers import GOOGLENET


@dataclass
class Passes:
    parses: int = 0
    rule_walks: int = 0


@pytest.fixture
def passes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Passes]:
    counted = Passes()
    parse, input_facts = Lark.parse, InputLayer.facts

    def counting_parse(self: Lark, *args: Any, **kwargs: Any) -> Any:
        counted.parses += 1
        return parse(self, *args, **kwargs)

    def counting_facts(self: InputLayer, inputs: Any) -> Facts:
        counted.rule_walks += 1
        return input_facts(self, inputs)

    monkeypatch.setattr(Lark, "parse", counting_parse)
    monkeypatch.setattr(InputLayer, "facts", counting_facts)
    yield counted


@pytest.mark.parametrize("options", [(), ("--expand",), ("--input", "32x32x3")])
def test_graph_parses_and_analyses_once(
    passes: Passes, tmp_path: Path, options: tuple[str, ...]
) -> None:
    output = tmp_path / "g.dot"
    result = CliRunner().invoke(app, ["graph", str(GOOGLENET), "-o", str(output), *options])
    assert result.exit_code == 0, result.output
    assert (passes.parses, passes.rule_walks) == (1, 1)


def test_check_parses_and_analyses_once_per_spec_and_size(passes: Passes) -> None:
    result = CliRunner().invoke(app, ["check", str(GOOGLENET), "--input", "64,224"])
    assert result.exit_code == 1, result.output  # the aux heads cannot be built at 64
    assert (passes.parses, passes.rule_walks) == (2, 2)


def _run(steps: Iterable[tuple[Any, tuple[Any, ...], Any]]) -> None:
    """One of pygls' own handlers, as its protocol runs it: it yields the server's handler."""
    for handler, arguments, _ in steps:
        handler(*arguments)


def _editor() -> tuple[SpecServer, list[types.PublishDiagnosticsParams]]:
    server = build_server()
    published: list[types.PublishDiagnosticsParams] = []
    server.text_document_publish_diagnostics = published.append  # type: ignore[method-assign]
    capabilities = types.ClientCapabilities()
    _run(server.protocol.lsp_initialize(types.InitializeParams(capabilities=capabilities)))
    return server, published


def test_the_language_server_parses_and_analyses_once_per_keystroke(passes: Passes) -> None:
    server, published = _editor()
    uri, text = GOOGLENET.as_uri(), GOOGLENET.read_text()
    opened = types.TextDocumentItem(uri=uri, language_id="netspec", version=1, text=text)
    _run(server.protocol.lsp_text_document__did_open(types.DidOpenTextDocumentParams(opened)))
    assert (passes.parses, passes.rule_walks) == (1, 1)

    written = "  inception 3a 64/96-128/16-32/32"
    line = text.split("\n").index(written)
    end = types.Position(line, len(written))
    change = types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[
            types.TextDocumentContentChangePartial(range=types.Range(end, end), text=" #")
        ],
    )
    _run(server.protocol.lsp_text_document__did_change(change))
    assert (passes.parses, passes.rule_walks) == (2, 2)
    assert [len(p.diagnostics) for p in published] == [0, 0]

    # Hover, completion and go-to-definition read what the keystroke's pass produced.
    features = server.protocol.fm.features
    document = types.TextDocumentIdentifier(uri)
    at = types.Position(line, 4)
    hover = features[types.TEXT_DOCUMENT_HOVER](types.HoverParams(document, at))
    assert hover is not None and "**3a** `inception`" in hover.contents.value
    features[types.TEXT_DOCUMENT_COMPLETION](types.CompletionParams(document, at))
    features[types.TEXT_DOCUMENT_DEFINITION](types.DefinitionParams(document, at))
    assert (passes.parses, passes.rule_walks) == (2, 2)
