"""`layerguard server` end to end: a real LSP client (pytest-lsp) talks to the real
server process over stdio, with real semgrep behind it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

from conftest import copy_fixture, write_tree  # noqa: E402

VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create()\n"
CLEAN = "from shop.models import Order\n\n\ndef create(request):\n    return Order.objects.all()\n"
ATOMIC = ("from django.db import transaction\nfrom rest_framework.views import APIView\n\n\n"
          "class Pay(APIView):\n    def post(self, request):\n        with transaction.atomic():\n"
          "            return None\n")

PROJECT = Path(os.environ.get("LAYERGUARD_TEST_TMP", "/tmp")) / f"layerguard-lsp-{os.getpid()}"


def _project() -> Path:
    import shutil

    if PROJECT.exists():
        shutil.rmtree(PROJECT)
    PROJECT.mkdir(parents=True)
    root = copy_fixture("example_scaffold", PROJECT)
    write_tree(root, {"shop/views.py": VIEW, "pyproject.toml": '[tool.layerguard]\nselect = ["LG"]\n'})
    return root


@pytest_lsp.fixture(config=ClientServerConfig(
    server_command=[sys.executable, "-m", "layerguard", "server"],
    server_env={**os.environ, "LAYERGUARD_CACHE_DIR": str(PROJECT.parent / f"lsp-cache-{os.getpid()}"),
                "LAYERGUARD_LSP_DEBOUNCE": "0.01"}))
async def client(lsp_client: LanguageClient):
    root = _project()
    lsp_client.root = root
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="shop")]))
    yield
    await lsp_client.shutdown_session()


async def _diagnostics(client: LanguageClient, uri: str, want, timeout: float = 60.0):
    """The diagnostics last published for `uri`, once they satisfy `want` (the server
    publishes the Python rules first and semgrep's findings after)."""
    deadline = asyncio.get_event_loop().time() + timeout
    while True:
        published = client.diagnostics.get(uri)
        if published is not None and want(published):
            return published
        if asyncio.get_event_loop().time() > deadline:
            raise AssertionError(f"no wanted diagnostics for {uri}: {published}")
        await asyncio.sleep(0.02)


def codes(*expected: str):
    return lambda published: sorted(d.code for d in published) == sorted(expected)


def _open(client: LanguageClient, path: Path, text: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    return uri


def _change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def _code_actions(client: LanguageClient, uri: str, diagnostics) -> list[types.CodeAction]:
    return await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostics[0].range,
        context=types.CodeActionContext(diagnostics=diagnostics)))


@pytest.mark.asyncio
async def test_diagnostics_follow_an_edited_buffer_unsaved(client: LanguageClient):
    uri = _open(client, client.root / "shop/views.py", VIEW)
    diagnostics = await _diagnostics(client, uri, codes("LG101"))
    assert diagnostics[0].range.start.line == 4 and diagnostics[0].source == "layerguard"
    _change(client, uri, 2, CLEAN)  # not saved: the buffer is what is checked
    assert list(await _diagnostics(client, uri, codes())) == []
    _change(client, uri, 3, VIEW.replace("def create", "\n\ndef create"))
    moved = await _diagnostics(client, uri, lambda p: [(d.code, d.range.start.line) for d in p] == [("LG101", 6)])
    assert moved[0].message == diagnostics[0].message


@pytest.mark.asyncio
async def test_a_file_outside_the_project_gets_an_empty_answer(client: LanguageClient):
    await _diagnostics(client, _open(client, client.root / "shop/views.py", VIEW), codes("LG101"))
    outside = client.root.parent / "elsewhere" / "views.py"  # not under the project's root
    uri = _open(client, outside, VIEW)
    assert list(await _diagnostics(client, uri, codes(), timeout=20)) == []  # stale ones cleared


@pytest.mark.asyncio
async def test_semgrep_findings_arrive_after_the_python_rules(client: LanguageClient):
    uri = _open(client, client.root / "shop/views.py", ATOMIC)  # LG202 is a semgrep rule
    diagnostics = await _diagnostics(client, uri, lambda p: "LG202" in {d.code for d in p})
    assert [d.range.start.line for d in diagnostics if d.code == "LG202"] == [6]


@pytest.mark.asyncio
async def test_a_suppression_code_action_applied_silences_the_diagnostic(client: LanguageClient):
    uri = _open(client, client.root / "shop/views.py", VIEW)
    diagnostics = await _diagnostics(client, uri, codes("LG101"))
    actions = await _code_actions(client, uri, diagnostics)
    suppress = next(a for a in actions if "Suppress LG101" in a.title)
    edit = suppress.edit.changes[uri][0]
    lines = VIEW.splitlines(keepends=True)
    line = lines[edit.range.start.line]
    lines[edit.range.start.line] = line[:edit.range.start.character] + edit.new_text + line[edit.range.end.character:]
    applied = "".join(lines)
    assert "Order.objects.create()  # noqa: LG101\n" in applied
    _change(client, uri, 2, applied)
    assert list(await _diagnostics(client, uri, codes())) == []


@pytest.mark.asyncio
async def test_hover_over_a_diagnostic_shows_the_rule_page(client: LanguageClient):
    uri = _open(client, client.root / "shop/views.py", VIEW)
    await _diagnostics(client, uri, codes("LG101"))
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(4, 10)))
    assert hover is not None and "(LG101)" in hover.contents.value and "## Why is this bad?" in hover.contents.value


@pytest.mark.asyncio
async def test_a_config_change_is_picked_up(client: LanguageClient):
    uri = _open(client, client.root / "shop/views.py", VIEW)
    await _diagnostics(client, uri, codes("LG101"))
    config = client.root / "pyproject.toml"
    config.write_text('[tool.layerguard]\nselect = ["LG"]\nignore = ["LG101"]\n')
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=config.as_uri())))
    assert list(await _diagnostics(client, uri, codes())) == []


@pytest.mark.asyncio
async def test_the_fix_code_action_moves_the_write_into_services(client: LanguageClient):
    uri = _open(client, client.root / "shop/views.py", VIEW)
    diagnostics = await _diagnostics(client, uri, codes("LG101"))
    actions = await _code_actions(client, uri, diagnostics)
    fix = next(a for a in actions if a.title.startswith("Fix LG101"))
    assert "shop/services.py" in fix.title and fix.title.endswith("(unsafe)")
    edits = {change.text_document.uri: change.edits[0].new_text
             for change in fix.edit.document_changes if isinstance(change, types.TextDocumentEdit)}
    services = (client.root / "shop/services.py").as_uri()
    assert set(edits) == {uri, services}
    assert "Order.objects.create()" in edits[services] and "Order.objects" not in edits[uri]
    assert (client.root / "shop/views.py").read_text() != edits[uri]  # nothing written by the server
    (client.root / "shop/services.py").write_text(edits[services])  # the client applies the edit
    _change(client, uri, 2, edits[uri])
    assert list(await _diagnostics(client, uri, codes())) == []


@pytest.mark.asyncio
async def test_columns_are_utf16_as_the_protocol_counts_them(client: LanguageClient):
    text = VIEW.replace("Order.objects.create()", 'é = "🎉"; Order.objects.create(note="日本🎉")')
    uri = _open(client, client.root / "shop/views.py", text)
    diagnostics = await _diagnostics(client, uri, codes("LG101"))
    line = text.splitlines()[4]
    start, end = diagnostics[0].range.start, diagnostics[0].range.end
    units = len(line.encode("utf-16-le")) // 2  # é and 日本: one unit each; each 🎉 two
    assert (start.character, end.character) == (line.index("Order") + 1, units)
