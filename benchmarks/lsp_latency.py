"""`netspec lsp` as an editor feels it: how long from a keystroke (didChange) to the
diagnostics of the new text (publishDiagnostics), and from spawning the server to its
answer to `initialize`.

Each spec is opened in a fresh server; each edit types a space at the end of its last
line or takes it away, which re-parses, re-lowers and re-analyses the whole spec as any
keystroke does. Times are over stdio, JSON-RPC both ways included.

    python benchmarks/lsp_latency.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from rich.table import Table

from benchmarks.common import ROOT, median, write_results

WAIT = 60.0


async def measure(spec: Path, repeat: int) -> tuple[float, list[float]]:
    client = LanguageClient("netspec-benchmark", "0")
    published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        published.put_nowait(params)

    start = time.perf_counter()
    await client.start_io(sys.executable, "-m", "netspec", "lsp", cwd=ROOT)
    await asyncio.wait_for(
        client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities())),
        WAIT,
    )
    startup = time.perf_counter() - start
    client.initialized(types.InitializedParams())
    uri, text = spec.as_uri(), spec.read_text()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "netspec", 1, text))
    )
    await asyncio.wait_for(published.get(), WAIT)
    lines = text.split("\n")
    end = types.Position(len(lines) - 1, len(lines[-1]))
    after = types.Position(end.line, end.character + 1)
    latencies = []
    for version in range(2, repeat + 2):
        typed = version % 2 == 0
        where = types.Range(end, end) if typed else types.Range(end, after)
        start = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(version=version, uri=uri),
                [types.TextDocumentContentChangePartial(range=where, text=" " if typed else "")],
            )
        )
        while (await asyncio.wait_for(published.get(), WAIT)).version != version:
            pass
        latencies.append(time.perf_counter() - start)
    await asyncio.wait_for(client.shutdown_async(None), WAIT)
    client.exit(None)
    await asyncio.wait_for(client.stop(), WAIT)
    return startup, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    table = Table(
        "spec",
        "start-up (s)",
        "keystroke -> diagnostics, median (ms)",
        "max (ms)",
        title=f"netspec lsp over stdio, {args.repeat} edits per spec",
    )
    rows = []
    for spec in sorted((ROOT / "specs").glob("*.ns")):
        startup, latencies = asyncio.run(measure(spec, args.repeat))
        relative = str(spec.relative_to(ROOT))
        rows.append(
            {
                "spec": relative,
                "startup_s": startup,
                "median_ms": 1000 * median(latencies),
                "max_ms": 1000 * max(latencies),
            }
        )
        table.add_row(
            relative,
            f"{startup:.2f}",
            f"{1000 * median(latencies):.0f}",
            f"{1000 * max(latencies):.0f}",
        )
    write_results("lsp_latency", rows, table)


if __name__ == "__main__":
    main()
