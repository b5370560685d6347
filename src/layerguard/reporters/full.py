"""`--format full`: each finding with its source line, a caret under the offending
span and the fix hint, as ruff's full output shows it. Reads the reported lines of
the checked files (it parses nothing)."""

from __future__ import annotations

from functools import lru_cache

from layerguard.report import Report
from layerguard.reporters import text


@lru_cache(maxsize=256)
def _lines(path: str) -> tuple[str, ...]:
    try:
        with open(path, encoding="utf-8", errors="replace", newline="") as stream:
            return tuple(stream.read().splitlines())
    except OSError:
        return ()


def render(report: Report, color: bool = False) -> str:
    _lines.cache_clear()
    blocks = []
    for v in report.violations:
        lines = _lines(v.path)
        block = [f"{v.path}:{v.line}:{v.column}: {v.code}{text.fix_marker(v)} {v.message}"]
        if 1 <= v.line <= len(lines):
            width = len(str(v.line))
            source = lines[v.line - 1].expandtabs(1)
            end = v.end_column if v.end_line == v.line and v.end_column > v.column else len(source.rstrip()) + 1
            gutter = " " * width
            block.append(f"{gutter} |")
            block.append(f"{v.line} | {source}")
            block.append(f"{gutter} | {' ' * (v.column - 1)}{'^' * max(1, end - v.column)} {v.code}")
            block.append(f"{gutter} |")
        if v.fix != "none":
            block.append(f"  = fix ({v.fix}): {v.fix_note}")
        elif v.fix_note:
            block.append(f"  = {v.fix_note}")
        blocks.append("\n".join(block))
    return "\n\n".join(blocks) + ("\n\n" if blocks else "") + "\n".join([text.summary(report), *text.untyped_lines(report)]) + "\n"
