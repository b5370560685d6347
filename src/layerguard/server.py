"""`layerguard server`: a Language Server (pygls + lsprotocol, the `layerguard[lsp]` extra).

- Diagnostics are published on open, on change (debounced: LAYERGUARD_LSP_DEBOUNCE
  seconds, default 0.05) and on save, for the buffer's text, unsaved edits included.
- The project model is built once (from the cache) and kept in memory; an edit updates
  it through engine.Workspace (facts of the one file again; the model rebuilt only when
  the file's signature changed).
- semgrep's process start (~0.2 s) would eat the per-edit budget, so its results are
  kept by content and never awaited on a keystroke: a change publishes the Python
  rules at once, with semgrep's matches when that exact text was scanned before; the
  scan of new text runs in the background and publishes again when it finishes (if
  the buffer is still at that version). Saving does the same. docs/editors.md has the
  measurements behind the choice.
- Code actions: add a suppression comment (`# noqa: CODE`) for a diagnostic, and any
  fix `check --fix --unsafe-fixes` offers, as one edit of the buffer and the service
  module (`_fix_actions`).
- Hover over a diagnostic code shows the rule's page, as `layerguard explain` prints it.
- Saving or changing the config file (pyproject.toml, layerguard.toml, .layerguard.toml)
  re-reads it and re-checks the open buffers.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from layerguard import __version__
from layerguard.checkers import RULES_BY_CODE, rule_catalog, rule_page
from layerguard.config import CONFIG_FILENAMES, ConfigError, Settings, find_config_file, load_settings
from layerguard.engine import Workspace
from layerguard.filters import NOQA
from layerguard.violation import Violation

DEBOUNCE_SECONDS = float(os.environ.get("LAYERGUARD_LSP_DEBOUNCE", "0.05"))
CODE = re.compile(r"\bLG\d{3}\b")


def _path_of(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


class LayerguardServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("layerguard", __version__)
        self.workspace_model: Workspace | None = None
        self.settings: Settings | None = None
        self.lock = threading.Lock()
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.diagnosed: dict[str, list[Violation]] = {}  # uri -> what was last published

    # ---------------------------------------------------------------- the model
    def model(self, near: Path) -> Workspace | None:
        if self.workspace_model is None:
            self.load(near)
        return self.workspace_model

    def load(self, near: Path) -> None:
        config_file = find_config_file(near)
        root = config_file.parent if config_file else self._root_for(near)
        try:
            self.settings = load_settings(config_file, root, rule_catalog())
        except ConfigError as error:
            self.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"layerguard: {error}"))
            self.workspace_model = None
            return
        self.workspace_model = Workspace(self.settings, self.settings.select, self.settings.ignore)

    def _root_for(self, near: Path) -> Path:
        folders = [_path_of(f.uri) for f in (self.workspace.folders or {}).values()]
        for folder in folders:
            if folder == near or folder in near.parents:
                return folder
        root_uri = self.workspace.root_uri
        return _path_of(root_uri) if root_uri else (near if near.is_dir() else near.parent)

    def relative(self, uri: str) -> str | None:
        model = self.workspace_model
        if model is None:
            return None
        try:
            return _path_of(uri).resolve().relative_to(model.settings.root.resolve()).as_posix()
        except ValueError:
            return None

    # ---------------------------------------------------------------- checking
    def check(self, uri: str, version: int | None, scan: bool) -> None:
        """Publish the Python rules' verdicts now; with `scan`, semgrep's too once known."""
        if not uri.endswith(".py"):
            return
        model = self.model(_path_of(uri))
        if model is None:
            return
        path = self.relative(uri)
        if path is None:  # outside the project: not checked, and the editor is told so
            self.publish(uri, version, [])
            return
        source = self.workspace.get_text_document(uri).source.encode("utf-8")
        with self.lock:
            model.update(path, source)
            matches = model.cached_matches(path)
            self.publish(uri, version, model.violations(path, matches or [])[0])
        if matches is None and scan:
            threading.Thread(target=self._scan, args=(uri, version, path, source), daemon=True).start()

    def _scan(self, uri: str, version: int | None, path: str, source: bytes) -> None:
        model = self.workspace_model
        try:
            matches = model.scan(path, source)  # outside the lock: edits are not held up
        except Exception as error:  # a semgrep failure must not end the server
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"layerguard: semgrep: {error}"))
            return
        with self.lock:
            if matches is not None:
                model.remember_matches(source, matches)
            if model is not self.workspace_model or model.sources.get(path) != source:
                return  # edited again meanwhile: that edit's check publishes
            self.publish(uri, version, model.violations(path, matches or [])[0])

    def publish(self, uri: str, version: int | None, violations: list[Violation]) -> None:
        self.diagnosed[uri] = violations
        path = self.relative(uri)
        source = self.workspace_model.sources.get(path, b"") if self.workspace_model and path else b""
        lines = source.split(b"\n")  # once per publish, not per diagnostic
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[_diagnostic(v, lines) for v in violations]))

    def schedule(self, uri: str, version: int | None) -> None:
        """Debounced check of a changed buffer (the last change within the delay wins)."""
        loop = asyncio.get_event_loop()
        if uri in self.pending:
            self.pending.pop(uri).cancel()
        self.pending[uri] = loop.call_later(DEBOUNCE_SECONDS, self._debounced, uri, version)

    def _debounced(self, uri: str, version: int | None) -> None:
        self.pending.pop(uri, None)
        self.check(uri, version, scan=True)

    def reload(self) -> None:
        """The config changed: read it again and re-check every open buffer."""
        if self.workspace_model is None:
            return
        root = self.workspace_model.settings.root
        self.workspace_model = None
        self.load(root)
        for uri, document in list(self.workspace.text_documents.items()):
            self.check(uri, document.version, scan=True)


def _diagnostic(violation: Violation, lines: list[bytes]) -> types.Diagnostic:
    rule = RULES_BY_CODE.get(violation.code)
    start = _utf16_column(lines, violation.line, violation.column)
    end = _utf16_column(lines, violation.end_line, violation.end_column)
    return types.Diagnostic(
        range=types.Range(start=types.Position(violation.line - 1, start),
                          end=types.Position(violation.end_line - 1, end)),
        message=violation.message, severity=types.DiagnosticSeverity.Warning, code=violation.code,
        source="layerguard", data={"name": rule.name if rule else violation.code})


def _utf16_column(lines: list[bytes], line: int, column: int) -> int:
    """A violation's 1-based column (in characters) as LSP's 0-based UTF-16 position (the
    protocol's default encoding): `🎉` is one character but two UTF-16 units."""
    offset = max(column - 1, 0)
    if not 0 < line <= len(lines):
        return offset
    prefix = lines[line - 1].decode("utf-8", errors="replace")[:offset]
    return len(prefix.encode("utf-16-le")) // 2


def suppression_edit(line_text: str, line: int, code: str) -> types.TextEdit | None:
    """The edit that adds `code` to the line's `# noqa` comment, or a new comment."""
    stripped = line_text.rstrip("\r\n")
    found = NOQA.search(stripped)
    if found and not found.group("codes"):
        return None  # a bare `# noqa` suppresses everything already
    if found:
        end = found.end("codes")
        return types.TextEdit(types.Range(types.Position(line, end), types.Position(line, end)), f", {code}")
    end = len(stripped)
    return types.TextEdit(types.Range(types.Position(line, end), types.Position(line, end)), f"  # noqa: {code}")


def _fix_actions(server: LayerguardServer, uri: str, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    """The fix `check --fix --unsafe-fixes` would make for this diagnostic, as one quick
    fix whose WorkspaceEdit rewrites the buffer and the service module (created when
    missing). Planned on request only: libcst runs when the user asks, not per keystroke.
    Unsafe fixes are offered too, titled so: choosing a code action is the explicit
    consent `--unsafe-fixes` stands for on the command line."""
    from layerguard.fixes import plan_fixes

    model = server.workspace_model
    line = diagnostic.range.start.line + 1
    violation = next((v for v in server.diagnosed.get(uri, [])
                      if v.code == diagnostic.code and v.line == line and v.fix in ("safe", "unsafe")), None)
    if model is None or violation is None:
        return []
    with server.lock:
        plan = plan_fixes(model.project, model.settings, model.sources, [violation], unsafe=True)
    if not plan.edits or violation not in plan.fixed:
        return []
    changes: list = []
    for edit in plan.edits:
        target = (model.settings.root / edit.path).as_uri()
        if edit.before is None:
            changes.append(types.CreateFile(uri=target, options=types.CreateFileOptions(ignore_if_exists=True)))
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=target, version=None),
            edits=[types.TextEdit(range=_whole(edit.before or ""), new_text=edit.after)]))
    title = f"Fix {violation.code}: {violation.fix_note}" + (" (unsafe)" if violation.fix == "unsafe" else "")
    return [types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
                             is_preferred=violation.fix == "safe",
                             edit=types.WorkspaceEdit(document_changes=changes))]


def _whole(text: str) -> types.Range:
    """The range of a whole document, in LSP's UTF-16 columns."""
    lines = text.split("\n")
    last = len(lines[-1].encode("utf-16-le")) // 2
    return types.Range(types.Position(0, 0), types.Position(len(lines) - 1, last))


SERVER = LayerguardServer()


@SERVER.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(server: LayerguardServer, params: types.DidOpenTextDocumentParams) -> None:
    server.check(params.text_document.uri, params.text_document.version, scan=True)


@SERVER.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(server: LayerguardServer, params: types.DidChangeTextDocumentParams) -> None:
    server.schedule(params.text_document.uri, params.text_document.version)


@SERVER.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(server: LayerguardServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if _path_of(uri).name in CONFIG_FILENAMES:
        server.reload()
        return
    document = server.workspace.get_text_document(uri)
    server.check(uri, document.version, scan=True)


@SERVER.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def did_change_watched_files(server: LayerguardServer, params: types.DidChangeWatchedFilesParams) -> None:
    if any(_path_of(change.uri).name in CONFIG_FILENAMES for change in params.changes):
        server.reload()


@SERVER.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]))
def code_action(server: LayerguardServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    document = server.workspace.get_text_document(uri)
    actions = []
    for diagnostic in params.context.diagnostics:
        if diagnostic.source != "layerguard" or not isinstance(diagnostic.code, str):
            continue
        actions.extend(_fix_actions(server, uri, diagnostic))
        line = diagnostic.range.start.line
        lines = document.lines
        edit = suppression_edit(lines[line] if line < len(lines) else "", line, diagnostic.code)
        if edit is None:
            continue
        actions.append(types.CodeAction(
            title=f"Suppress {diagnostic.code} on this line (# noqa: {diagnostic.code})",
            kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic],
            edit=types.WorkspaceEdit(changes={uri: [edit]})))
    return actions


@SERVER.feature(types.TEXT_DOCUMENT_HOVER)
def hover(server: LayerguardServer, params: types.HoverParams) -> types.Hover | None:
    """The rule's page over a diagnostic, or over a code written in a comment."""
    uri, position = params.text_document.uri, params.position
    code = None
    for violation in server.diagnosed.get(uri, []):
        if violation.line - 1 <= position.line <= violation.end_line - 1:
            code = violation.code
            break
    document = server.workspace.get_text_document(uri)
    if position.line < len(document.lines):
        for found in CODE.finditer(document.lines[position.line]):
            if found.start() <= position.character <= found.end():
                code = found.group()
    rule = RULES_BY_CODE.get(code) if code else None
    if rule is None:
        return None
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=rule_page(rule)))


def serve() -> None:
    SERVER.start_io()
