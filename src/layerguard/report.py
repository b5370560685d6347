"""What a run found: the violations left after filters, and the counts the summary shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from layerguard.violation import Violation


@dataclass
class Report:
    violations: list[Violation]
    files: int
    suppressed: int = 0
    baselined: int = 0
    # Baseline entries no violation matches any more (paid debt), as JSON-ready dicts.
    fixed: list[dict] = field(default_factory=list)
    # The checked files as displayed (relative to the working directory).
    checked_paths: list[str] = field(default_factory=list)
    # Every violation found before the baseline was applied, as baseline entries
    # (root-relative paths): what --write-baseline records.
    entries: list = field(default_factory=list)
    # (path as displayed, reason) of every path under the checked ones that was left out:
    # a FIFO, a link to a directory, a file that vanished (docs/design.md has the table).
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # `check --show-untyped`: write-shaped calls LG101 stayed silent on because it could not
    # type the receiver, as {"path", "line", "column", "call", "reason"}; None without the flag.
    untyped: list[dict] | None = None
    # What suppression comments / per-file ignores and the baseline took out (paths as
    # displayed): the audit counts them apart, never hides them.
    suppressed_violations: list[Violation] = field(default_factory=list)
    baselined_violations: list[Violation] = field(default_factory=list)
    # With check(..., keep_project=True): the project model and every file's bytes
    # (root-relative paths), so the audit reads what the check read, with no second pass.
    project: Any = None
    sources: dict[str, bytes] = field(default_factory=dict)
    # What the result depends on, each path with its identity when read (runrecord.Inputs):
    # the CLI keeps it in the run record, so an unchanged tree is not read again.
    inputs: Any = None
