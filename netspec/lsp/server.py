"""The protocol side of `netspec lsp`: pygls handlers over the plain functions beside it.

Positions cross here: the editor counts in UTF-16 code units (by default), the functions
in characters; each document's position codec converts both ways.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from netspec import __version__
from netspec.analysis.report import Report
from netspec.api import check
from netspec.lsp.completion import completions
from netspec.lsp.diagnostics import lsp_diagnostics
from netspec.lsp.hover import hover_markdown
from netspec.lsp.modules import Module, defined_modules, definition


class SpecServer(LanguageServer):
    """Keeps, per open spec, the report of its text as it stands and the modules of the
    last text that parsed (a line being typed rarely parses, and completion needs them)."""

    def __init__(self) -> None:
        super().__init__("netspec", __version__)
        self.reports: dict[str, Report] = {}
        self.modules: dict[str, dict[str, Module]] = {}

    def analyse(self, uri: str) -> None:
        document = self.workspace.get_text_document(uri)
        text = document.source
        checked = check(text, document.path)
        self.reports[uri] = checked.report
        if checked.spec is not None:
            self.modules[uri] = defined_modules(checked.spec)
        diagnostics = [
            _in_client_units(diagnostic, document)
            for diagnostic in lsp_diagnostics(checked.report, text)
        ]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=diagnostics, version=document.version
            )
        )

    def forget(self, uri: str) -> None:
        self.reports.pop(uri, None)
        self.modules.pop(uri, None)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))


def _in_client_units(diagnostic: types.Diagnostic, document: TextDocument) -> types.Diagnostic:
    diagnostic.range = _client_range(document, diagnostic.range)
    return diagnostic


def _client_range(document: TextDocument, characters: types.Range) -> types.Range:
    return document.position_codec.range_to_client_units(document.lines, characters)


def _cursor(document: TextDocument, position: types.Position) -> tuple[str, int, int]:
    """The line's text and the 0-based line and character the editor points at."""
    server = document.position_from_client_units(position)
    lines = document.lines
    line = lines[server.line].rstrip("\r\n") if server.line < len(lines) else ""
    return line, server.line, server.character


def build_server() -> SpecServer:
    server = SpecServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: SpecServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.analyse(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SpecServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.analyse(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SpecServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: SpecServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        report = ls.reports.get(uri)
        if report is None:
            return None
        _, index, _ = _cursor(ls.workspace.get_text_document(uri), params.position)
        markdown = hover_markdown(report, index + 1)
        if markdown is None:
            return None
        return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, markdown))

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    def go_to_definition(ls: SpecServer, params: types.DefinitionParams) -> types.Location | None:
        uri = params.text_document.uri
        document = ls.workspace.get_text_document(uri)
        line, _, character = _cursor(document, params.position)
        module = definition(ls.modules.get(uri, {}), line, character)
        if module is None:
            return None
        start = types.Position(module.line - 1, module.column - 1)
        end = types.Position(module.line - 1, module.column - 1 + len(module.name))
        return types.Location(uri, _client_range(document, types.Range(start, end)))

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[" "])
    )
    def complete(ls: SpecServer, params: types.CompletionParams) -> types.CompletionList:
        uri = params.text_document.uri
        document = ls.workspace.get_text_document(uri)
        _, line, character = _cursor(document, params.position)
        items = completions(document.source, line, character, ls.modules.get(uri, {}))
        return types.CompletionList(is_incomplete=False, items=items)

    return server


def serve() -> None:
    """Speak the protocol on stdin and stdout until the editor says `exit`."""
    build_server().start_io()
