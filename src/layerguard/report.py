"""What a run found: the violations left after filters, and the counts the summary shows."""

from __future__ import annotations

from dataclasses import dataclass, field

from layerguard.violation import Violation


@dataclass
class Report:
    violations: list[Violation]
    files: int
    suppressed: int = 0
    baselined: int = 0
    fixed: list[dict] = field(default_factory=list)
