"""The one Violation type every back-end produces and every filter and reporter consumes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Violation:
    path: str  # relative to the working directory, "/" separators
    line: int  # 1-based
    column: int  # 1-based, in characters
    code: str
    end_line: int
    end_column: int
    message: str
    app: str | None = None
    # Set by filters.fingerprints once all violations of a file are known.
    fingerprint: str = field(default="", compare=False)
    # Whether a fix is offered, as ruff's `fixable`: "safe", "unsafe" (it moves code
    # between modules; --unsafe-fixes) or "none". `fix_note` is the fix's one-line
    # description, or, for "none" on a rule that has a fix, why this one has none.
    fix: str = field(default="none", compare=False)
    fix_note: str = field(default="", compare=False)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)
