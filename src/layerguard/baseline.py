"""The baseline: today's violations, frozen so a legacy project fails only on new ones.

Entries match by fingerprint (code, root-relative path, the offending line's
normalised text, occurrence: see filters.fingerprints), so they survive edits that
only move lines. The file is sorted and one entry per line-group, so a diff of it in
review shows exactly which debts were paid or added.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from layerguard.violation import Violation

DEFAULT_BASELINE = ".layerguard-baseline.json"
FORMAT_VERSION = 1


class BaselineError(Exception):
    """The baseline file cannot be read or written; the message names it."""


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    code: str
    path: str
    line: int
    message: str

    def to_json(self) -> dict:
        return {"fingerprint": self.fingerprint, "code": self.code, "path": self.path,
                "line": self.line, "message": self.message}


@dataclass
class BaselineResult:
    kept: list[Violation]
    baselined: int
    fixed: list[BaselineEntry]
    # The violations the baseline knows: still debt, counted apart (the audit shows them).
    baselined_violations: list[Violation] = field(default_factory=list)


def entries_for(violations: list[Violation]) -> list[BaselineEntry]:
    return sorted(
        (BaselineEntry(v.fingerprint, v.code, v.path, v.line, v.message) for v in violations),
        key=lambda e: (e.path, e.line, e.code, e.fingerprint),
    )


def read_baseline(path: Path) -> list[BaselineEntry]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [BaselineEntry(e["fingerprint"], e["code"], e["path"], int(e["line"]), e.get("message", ""))
                for e in document["entries"]]
    except FileNotFoundError:
        raise BaselineError(f"{path}: baseline file not found (create it with --write-baseline)") from None
    except (ValueError, KeyError, TypeError) as error:
        raise BaselineError(f"{path}: not a layerguard baseline ({type(error).__name__}: {error})") from None
    except OSError as error:
        raise BaselineError(f"{path}: cannot read: {error.strerror}") from None


def write_baseline(path: Path, entries: list[BaselineEntry]) -> None:
    document = {"tool": "layerguard", "format": FORMAT_VERSION, "entries": [e.to_json() for e in entries]}
    text = json.dumps(document, indent=2, sort_keys=False) + "\n"
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as error:
        raise BaselineError(f"{path}: cannot write: {error.strerror}") from None


def apply_baseline(violations: list[Violation], entries: list[BaselineEntry],
                   checked_paths: set[str] | None = None) -> BaselineResult:
    """Drop violations the baseline knows; entries nothing matched any more are fixed.

    With `checked_paths` (a --diff run), only entries of checked files can be fixed:
    an unchecked file's debt is not paid just because nobody looked at it.
    """
    known = {entry.fingerprint for entry in entries}
    kept = [v for v in violations if v.fingerprint not in known]
    current = {v.fingerprint for v in violations}
    fixed = [e for e in entries if e.fingerprint not in current
             and (checked_paths is None or e.path in checked_paths)]
    return BaselineResult(kept, len(violations) - len(kept), fixed,
                          [v for v in violations if v.fingerprint in known])
