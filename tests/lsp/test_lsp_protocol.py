"""`netspec lsp` as an editor sees it: a subprocess speaking JSON-RPC on stdio, driven by
pygls' own client. Every wait is bounded; a hung server fails the test, it cannot stall it."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Awaitable, Callable

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from tests.helpers import GOOGLENET, REPO

URI = GOOGLENET.as_uri()
TEXT = GOOGLENET.read_text()
LINES = TEXT.split("\n")
WAIT = 30.0


def line_of(prefix: str) -> int:
    """0-based, as the protocol counts."""
    return next(index for index, line in enumerate(LINES) if line.strip().startswith(prefix))


Published = asyncio.Queue[types.PublishDiagnosticsParams]
Session = Callable[[LanguageClient, Published], Awaitable[None]]


def open_spec(client: LanguageClient, uri: str, text: str) -> None:
    item = types.TextDocumentItem(uri=uri, language_id="netspec", version=1, text=text)
    client.text_document_did_open(types.DidOpenTextDocumentParams(item))


def type_text(
    client: LanguageClient, uri: str, version: int, where: types.Range, text: str
) -> None:
    """An edit as an editor sends it: only the range that changed."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangePartial(range=where, text=text)],
        )
    )


def run_session(session: Session) -> None:
    async def main() -> None:
        client = LanguageClient("netspec-tests", "0")
        published: Published = asyncio.Queue()

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            published.put_nowait(params)

        # From the repository root, `-m netspec` is this checkout, not an installed copy.
        await client.start_io(sys.executable, "-m", "netspec", "lsp", cwd=REPO)
        await asyncio.wait_for(
            client.initialize_async(
                types.InitializeParams(capabilities=types.ClientCapabilities())
            ),
            WAIT,
        )
        client.initialized(types.InitializedParams())
        open_spec(client, URI, TEXT)
        await session(client, published)
        await asyncio.wait_for(client.shutdown_async(None), WAIT)
        client.exit(None)
        await asyncio.wait_for(client.stop(), WAIT)

    asyncio.run(asyncio.wait_for(main(), 3 * WAIT))


def test_a_change_that_collapses_the_map_is_reported_at_its_line() -> None:
    # The stem's last pool, 56x56 -> 28x28: a stride of 64 leaves 1x1.
    pool = max(i for i in range(line_of("stem:"), line_of("stage 3")) if "maxpool" in LINES[i])
    stride = LINES[pool].index("/2") + 1

    async def session(client: LanguageClient, published: Published) -> None:
        opened = await asyncio.wait_for(published.get(), WAIT)
        assert opened.uri == URI
        assert list(opened.diagnostics) == []
        # A stride of 64 typed over the 2.
        edit = types.Range(types.Position(pool, stride), types.Position(pool, stride + 1))
        type_text(client, URI, 2, edit, "64")
        changed = await asyncio.wait_for(published.get(), WAIT)
        collapse = [d for d in changed.diagnostics if d.code == "collapse"]
        assert len(collapse) == 1
        assert collapse[0].severity == types.DiagnosticSeverity.Warning
        assert "collapses to 1x1" in collapse[0].message
        # The caret's token: `maxpool`, where the statement starts.
        start = LINES[pool].index("maxpool")
        assert collapse[0].range == types.Range(
            types.Position(pool, start), types.Position(pool, start + len("maxpool"))
        )

    run_session(session)


def inception_3a_params() -> int:
    """GoogLeNet's 3a (paper, Table 1) on 192 channels, every conv with its bias."""

    def conv(k: int, c_in: int, c_out: int) -> int:
        return (k * k * c_in + 1) * c_out

    return (
        conv(1, 192, 64)
        + conv(1, 192, 96) + conv(3, 96, 128)
        + conv(1, 192, 16) + conv(5, 16, 32)
        + conv(1, 192, 32)
    )  # fmt: skip


def test_hover_on_an_inception_line_shows_its_output_and_parameters() -> None:
    line = line_of("inception 3a")

    async def session(client: LanguageClient, published: Published) -> None:
        hover = await asyncio.wait_for(
            client.text_document_hover_async(
                types.HoverParams(types.TextDocumentIdentifier(URI), types.Position(line, 14))
            ),
            WAIT,
        )
        assert hover is not None
        assert isinstance(hover.contents, types.MarkupContent)
        text = hover.contents.value
        assert text.startswith("**3a**")
        assert "output 28x28x256" in text  # 64 + 128 + 32 + 32 channels on the 28x28 grid
        assert f"{inception_3a_params():,} params" in text

    run_session(session)


def test_definition_and_completion_over_the_protocol() -> None:
    spec = textwrap.dedent(
        """\
        network t
        input 32x32x3
        classes 10
        module block(w, s=1):
          conv 3x3/s w
        block b1 w=16
        gap
        dense classes
        """
    )

    async def session(client: LanguageClient, published: Published) -> None:
        open_spec(client, "file:///t.ns", spec)
        document = types.TextDocumentIdentifier("file:///t.ns")
        found = await asyncio.wait_for(
            client.text_document_definition_async(
                types.DefinitionParams(document, types.Position(5, 2))
            ),
            WAIT,
        )
        assert isinstance(found, types.Location)
        assert found.range.start == types.Position(3, len("module "))
        # Type a space after the last argument, then ask what may follow.
        end = types.Position(5, len("block b1 w=16"))
        type_text(client, "file:///t.ns", 2, types.Range(end, end), " ")
        completed = await asyncio.wait_for(
            client.text_document_completion_async(
                types.CompletionParams(document, types.Position(5, len("block b1 w=16 ")))
            ),
            WAIT,
        )
        assert isinstance(completed, types.CompletionList)
        assert [item.label for item in completed.items] == ["s="]

    run_session(session)


def test_check_does_not_load_the_language_server() -> None:
    script = (
        "import sys\nfrom netspec.cli import app\n"
        "try:\n    app(['check', sys.argv[1], '--no-layers'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pygls', 'lsprotocol'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(GOOGLENET)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
