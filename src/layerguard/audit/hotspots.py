"""Hotspots: where the debt is, first where it is touched most.

CodeScene's idea (Adam Tornhill, "Your Code as a Crime Scene"): debt in a file that
changes every week costs more than debt in a file nobody opens. A file's weight is
findings x (1 + commits that changed it in the churn window); outside git, or with
no commit in the window, it is the findings alone. A function's weight is its own
findings x (1 + its file's commits). Ties go to the path, so the order is stable.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from layerguard.project import ProjectModel
from layerguard.violation import Violation


@dataclass(frozen=True)
class Hotspot:
    path: str  # root-relative
    name: str  # "" for a file, the function's or class's qualname otherwise
    line: int
    app: str | None
    findings: int
    changes: int  # commits in the window, 0 outside git
    by_code: tuple[tuple[str, int], ...]

    @property
    def weight(self) -> int:
        return self.findings * (1 + self.changes)

    def to_json(self) -> dict:
        return {"path": self.path, "name": self.name, "line": self.line, "app": self.app, "findings": self.findings,
                "changes": self.changes, "weight": self.weight, "by_code": dict(self.by_code)}


def file_hotspots(project: ProjectModel, findings: list[Violation], churn: dict[str, int] | None,
                  limit: int = 10) -> list[Hotspot]:
    by_path: dict[str, Counter] = {}
    for violation in findings:
        by_path.setdefault(violation.path, Counter())[violation.code] += 1
    spots = [Hotspot(path, "", 1, _app(project, path), sum(codes.values()), (churn or {}).get(path, 0),
                     tuple(sorted(codes.items()))) for path, codes in by_path.items()]
    return _ranked(spots, limit)


def function_hotspots(project: ProjectModel, findings: list[Violation], churn: dict[str, int] | None,
                      limit: int = 10) -> list[Hotspot]:
    """Findings grouped by their innermost enclosing function (else class); findings
    at module level (an import, a model's field) belong to no function and are left out."""
    by_unit: dict[tuple[str, str, int], Counter] = {}
    for violation in findings:
        if violation.path not in project.facts_by_path:
            continue
        classes, functions = project.enclosing(violation.path, violation.line)
        definition = functions[-1] if functions else (classes[-1] if classes else None)
        if definition is None or violation.code.startswith("LG4"):
            continue
        key = (violation.path, definition.qualname, definition.line)
        by_unit.setdefault(key, Counter())[violation.code] += 1
    spots = [Hotspot(path, name, line, _app(project, path), sum(codes.values()), (churn or {}).get(path, 0),
                     tuple(sorted(codes.items()))) for (path, name, line), codes in by_unit.items()]
    return _ranked(spots, limit)


def _ranked(spots: list[Hotspot], limit: int) -> list[Hotspot]:
    return sorted(spots, key=lambda s: (-s.weight, -s.findings, s.path, s.line))[:limit]


def _app(project: ProjectModel, path: str) -> str | None:
    app = project.app_of(path)
    return app.label if app else None
