"""The language server's per-edit latency on a real project. Not part of the test suite.

    python scripts/lsp_latency.py PROJECT_DIR [FILE] [--edits 20]

Starts `layerguard server` as an editor would (stdio, a real LSP client from pygls),
opens FILE (default: the project's largest views or mutations module, tests left out),
waits for its diagnostics, then makes `--edits` edits to the buffer (each changes one
line of a function body, as typing does) and times each from sending `didChange` to the
server publishing that version's diagnostics (the debounce delay included). Prints the
start-up time, the first diagnostics, the median and the worst edit. The project is
used in a temporary copy (the server writes nothing into it, but its cache goes to a
temporary directory).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient


async def measure(project: Path, target: Path, edits: int, cache: str) -> None:
    client = LanguageClient("lsp-latency", "1")
    published: dict[int, float] = {}
    waiters: dict[int, asyncio.Future] = {}

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: types.PublishDiagnosticsParams) -> None:
        if params.version is not None and params.version not in published:
            published[params.version] = time.perf_counter()
            future = waiters.get(params.version)
            if future is not None and not future.done():
                future.set_result(len(params.diagnostics))

    environment = {**os.environ, "LAYERGUARD_CACHE_DIR": cache}
    start = time.perf_counter()
    await client.start_io(sys.executable, "-m", "layerguard", "server", env=environment)
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities(),
                                                         root_uri=project.as_uri()))
    client.initialized(types.InitializedParams())
    text = target.read_text(encoding="utf-8")
    uri = target.as_uri()
    loop = asyncio.get_running_loop()
    waiters[1] = loop.create_future()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    count = await asyncio.wait_for(waiters[1], 600)
    first = time.perf_counter() - start
    lines = text.splitlines(keepends=True)
    body = [i for i, line in enumerate(lines) if line.startswith("        ") and line.strip()
            and not line.strip().startswith(("#", "@", "def ", "class ", "\"", "'"))][: max(edits, 1)]
    timings = []
    for edit in range(edits):
        version = edit + 2
        index = body[edit % len(body)]
        changed = list(lines)
        changed[index] = changed[index].rstrip("\n") + f"  # edit {edit}\n"
        waiters[version] = loop.create_future()
        sent = time.perf_counter()
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="".join(changed))]))
        await asyncio.wait_for(waiters[version], 60)
        timings.append(published[version] - sent)
        await asyncio.sleep(0.3)  # a pause between keystroke bursts; lets the background scan finish
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    print(f"| file | {target.relative_to(project)} ({len(lines)} lines, {count} diagnostics) |")
    print(f"| server start + first diagnostics | {first:.2f} s |")
    print(f"| per-edit latency, median of {edits} | {statistics.median(timings) * 1000:.0f} ms |")
    print(f"| per-edit latency, worst | {max(timings) * 1000:.0f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("file", nargs="?", type=Path)
    parser.add_argument("--edits", type=int, default=20)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="layerguard-lsp-") as scratch:
        copy = Path(scratch) / arguments.project.resolve().name
        shutil.copytree(arguments.project, copy, ignore=shutil.ignore_patterns(".git", "node_modules"))
        if arguments.file is not None:
            target = copy / arguments.file
        else:
            # A module the rules check (not a test, which is exempt and has no diagnostics).
            views = [p for p in copy.rglob("*.py") if ("view" in p.name or "mutations" in p.parts)
                     and "tests" not in p.parts and not p.name.startswith("test")]
            target = max(views or list(copy.rglob("*.py")), key=lambda p: p.stat().st_size)
        # The cache filled once, as a developer's earlier `layerguard check` leaves it.
        cache = str(Path(scratch) / "cache")
        os.system(f"cd {copy} && LAYERGUARD_CACHE_DIR={cache} {sys.executable} -m layerguard check "
                  f"--exit-zero --format json --output {os.devnull} . >/dev/null 2>&1")
        print(f"# layerguard server latency, {time.strftime('%Y-%m-%d')}, {arguments.project}\n")
        print("| measure | value |\n|---|---|")
        asyncio.run(measure(copy.resolve(), target.resolve(), arguments.edits, cache))


if __name__ == "__main__":
    main()
