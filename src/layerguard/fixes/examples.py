"""Before/after examples of a fix kind, collected by tests/test_fix_examples.py as the
rule examples are: each fix module lists FIXED (the files before, the files after
`check --fix --unsafe-fixes`) and NOT_FIXED (a violation that keeps "fix": "none",
with words of the reason)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field


def _clean(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Fixed:
    before: dict[str, str]
    after: dict[str, str]

    def files_before(self) -> dict[str, str]:
        return {path: _clean(text) for path, text in self.before.items()}

    def files_after(self) -> dict[str, str]:
        return {path: _clean(text) for path, text in self.after.items()}


@dataclass(frozen=True)
class NotFixed:
    code: str
    reason: str  # words the violation's fix_note must contain
    path: str = "shop/views.py"
    files: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        return _clean(self.code)
