"""Writing fixes: atomically, only when the result parses, never outside the project
root; and the unified diff `--fix --dry-run` prints instead."""

from __future__ import annotations

import ast
import difflib
import os
import tempfile
from pathlib import Path

from layerguard.fixes import FileEdit


class UnsafeWrite(Exception):
    """An edit that must not be written (outside the root, does not parse, file changed)."""


def unified_diff(edits: list[FileEdit]) -> str:
    chunks = []
    for edit in edits:
        before = (edit.before or "").splitlines(keepends=True)
        after = edit.after.splitlines(keepends=True)
        chunks.extend(difflib.unified_diff(before, after, f"a/{edit.path}" if edit.before is not None else "/dev/null",
                                           f"b/{edit.path}"))
    text = "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in chunks)
    return text


def check_edit(root: Path, edit: FileEdit) -> Path:
    """The file to write for `edit`, or UnsafeWrite saying why not."""
    root = root.resolve()
    target = root / edit.path
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        raise UnsafeWrite(f"{edit.path} resolves outside the project root ({resolved})")
    try:
        ast.parse(edit.after, filename=edit.path)
    except (SyntaxError, ValueError) as error:
        raise UnsafeWrite(f"the fixed {edit.path} would not parse ({error}); left as it is")
    current = resolved.read_bytes().decode("utf-8", "replace") if resolved.exists() else None
    if current != edit.before:
        raise UnsafeWrite(f"{edit.path} changed since it was checked; left as it is")
    return resolved


def write_edits(root: Path, edits: list[FileEdit]) -> list[str]:
    """Write every edit (all checked before any is written); returns what was refused."""
    refused, targets = [], []
    for edit in edits:
        try:
            targets.append((check_edit(root, edit), edit))
        except UnsafeWrite as error:
            refused.append(str(error))
    if refused:
        # A move edits two files; writing half of it would leave a call to nothing.
        return refused
    for target, edit in targets:
        _atomic_write(target, edit.after)
    return []


def _atomic_write(target: Path, text: str) -> None:
    mode = target.stat().st_mode & 0o7777 if target.exists() else None
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".layerguard")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
