"""`check --add-noqa`: a `# layerguard: ignore[CODE]` on each violation's reported
line, merged into the comment already there, as ruff's `--add-noqa` does. The other
way, beside the baseline, to adopt layerguard on a legacy codebase today."""

from __future__ import annotations

import io
import tokenize

from layerguard.filters import IGNORE
from layerguard.fixes import FileEdit
from layerguard.violation import Violation


def add_noqa(sources: dict[str, bytes], violations: list[Violation]) -> tuple[list[FileEdit], int]:
    """Edits adding the comments (root-relative paths), and how many lines got one."""
    by_path: dict[str, dict[int, set[str]]] = {}
    for violation in violations:
        if violation.code == "LG900":  # an unparsable file: nothing to suppress it with
            continue
        by_path.setdefault(violation.path, {}).setdefault(violation.line, set()).add(violation.code)
    edits, count = [], 0
    for path, lines_codes in sorted(by_path.items()):
        text = sources[path].decode("utf-8")
        ending_outside_strings = _lines_ending_outside_strings(text)
        lines = text.splitlines(keepends=True)
        for number, codes in lines_codes.items():
            if not (1 <= number <= len(lines)) or number not in ending_outside_strings:
                continue
            new = _with_codes(lines[number - 1], codes)
            if new != lines[number - 1]:
                lines[number - 1] = new
                count += 1
        after = "".join(lines)
        if after != text:
            edits.append(FileEdit(path, text, after))
    return edits, count


def _with_codes(line: str, codes: set[str]) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body):]
    existing = IGNORE.search(body)
    if existing is not None:
        listed = existing.group("codes")
        if listed is None:
            return line  # `# layerguard: ignore` already suppresses everything
        merged = sorted({c.strip().upper() for c in listed.split(",") if c.strip()} | codes)
        replacement = f"# layerguard: ignore[{', '.join(merged)}]"
        return body[:existing.start()] + replacement + body[existing.end():] + ending
    comment = f"# layerguard: ignore[{', '.join(sorted(codes))}]"
    return f"{body.rstrip()}  {comment}{ending}"


def _lines_ending_outside_strings(text: str) -> set[int]:
    """Lines whose end is not inside a string (a comment appended there is a comment)."""
    found = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT):
                found.add(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass
    return found
