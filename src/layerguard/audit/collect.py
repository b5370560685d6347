"""From one check's violations and project model to the audit's plain aggregates.

Every count here is of *findings*: the violations the rules found, whether still open,
known to the baseline or suppressed by a comment or a per-file ignore. The audit
describes the code, not the CI gate, so nothing is hidden; each family's split
(open / baselined / suppressed) is kept beside its total.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from layerguard import __version__
from layerguard.audit.coupling import coupling_json, dependency_matrix, martin_metrics, project_coupling
from layerguard.audit.git import churn as git_churn
from layerguard.audit.hotspots import file_hotspots, function_hotspots
from layerguard.audit.score import adoption_score
from layerguard.cache import Cache
from layerguard.checkers import RULES_BY_CODE
from layerguard.config import Settings
from layerguard.engine import Progress, check
from layerguard.project import ProjectModel
from layerguard.report import Report
from layerguard.violation import Violation

FAMILIES = {"LG1": "ORM writes", "LG2": "views", "LG3": "serializers", "LG4": "app coupling",
            "LG5": "services", "LG9": "parse errors"}
NO_APP = "(no app)"
SNIPPET_CONTEXT = 2  # lines shown before and after a finding's line
WORST_APP_MIN_LINES = 1000


@dataclass
class Finding:
    violation: Violation  # root-relative path
    status: str  # "open", "baselined", "suppressed"
    app: str
    snippet: list[tuple[int, str]]

    def to_json(self) -> dict:
        v = self.violation
        return {"code": v.code, "name": RULES_BY_CODE[v.code].name if v.code in RULES_BY_CODE else v.code,
                "family": family_of(v.code), "path": v.path, "line": v.line, "column": v.column,
                "message": v.message, "app": self.app, "status": self.status,
                "snippet": [{"line": n, "text": t} for n, t in self.snippet]}


@dataclass
class Audit:
    root: str
    files: int
    lines: int
    findings: list[Finding]
    families: dict[str, dict[str, int]]  # family -> {"open", "baselined", "suppressed", "total"}
    by_code: dict[str, int]
    apps: list[dict]  # {"app", "files", "lines", "families": {family: n}, "total", "density": {family: per kloc}}
    score: dict
    coupling: dict
    matrix: list[list[dict | None]]
    martin: list[dict]
    file_hotspots: list[dict]
    function_hotspots: list[dict]
    churn_days: int
    git: bool
    history: list[dict] = field(default_factory=list)
    report: Report | None = None

    @property
    def name(self) -> str:
        """The project as a report's title names it: its directory's name, not a local path."""
        return Path(self.root).name or self.root

    def to_json(self) -> dict:
        return {"version": __version__, "root": self.root, "files": self.files, "lines": self.lines,
                "families": self.families, "by_code": self.by_code, "apps": self.apps, "score": self.score,
                "coupling": self.coupling, "martin": self.martin,
                "hotspots": {"git": self.git, "churn_days": self.churn_days, "files": self.file_hotspots,
                             "functions": self.function_hotspots},
                "history": self.history}

    def worst_app(self) -> dict | None:
        """The app with the most findings per 1,000 lines among apps of at least
        WORST_APP_MIN_LINES lines (a 100-line app with 3 findings is not the worst
        place of a large codebase); among all apps when none is that large."""
        apps = [a for a in self.apps if a["app"] != NO_APP and a["lines"] and a["total"]]
        large = [a for a in apps if a["lines"] >= WORST_APP_MIN_LINES] or apps
        return max(large, key=lambda a: (a["density_total"], a["total"], a["app"]), default=None)


def family_of(code: str) -> str:
    return code[:3]


def run_audit(settings: Settings, select: list[str], ignore: list[str], baseline=None, jobs: int | None = None,
              use_cache: bool = True, progress: Progress | None = None, churn_days: int = 365,
              cache: Cache | None = None) -> Audit:
    """One check of the whole project (every rule selected by the config), then its aggregates.
    `cache`: the one to use (the history reuses it), else the project's own."""
    report = check(settings, [settings.root], select, ignore, baseline=baseline, jobs=jobs, use_cache=use_cache,
                   progress=progress, keep_project=True, cache=cache)
    churn = git_churn(settings.root, churn_days)
    return collect(report, settings.root, churn, churn_days)


def collect(report: Report, root: Path, churn: dict[str, int] | None, churn_days: int = 365) -> Audit:
    project: ProjectModel = report.project
    sources = report.sources
    relative = root_relative(root)
    statuses = [("open", report.violations), ("baselined", report.baselined_violations),
                ("suppressed", report.suppressed_violations)]
    findings: list[Finding] = []
    lines_of: dict[str, list[str]] = {}
    for status, violations in statuses:
        for violation in violations:
            path = relative(violation.path)
            app = project.app_of(path) if path in project.facts_by_path else None
            violation = Violation(path, violation.line, violation.column, violation.code, violation.end_line,
                                  violation.end_column, violation.message, violation.app, violation.fingerprint)
            if path not in lines_of:
                lines_of[path] = sources.get(path, b"").decode("utf-8", "replace").splitlines()
            findings.append(Finding(violation, status, app.label if app else NO_APP,
                                    _snippet(lines_of[path], violation.line)))
    findings.sort(key=lambda f: (f.app, f.violation.code, f.violation.sort_key()))
    everything = [f.violation for f in findings]

    families = {name: {"open": 0, "baselined": 0, "suppressed": 0, "total": 0} for name in FAMILIES}
    for finding in findings:
        counts = families.setdefault(family_of(finding.violation.code), {"open": 0, "baselined": 0, "suppressed": 0,
                                                                          "total": 0})
        counts[finding.status] += 1
        counts["total"] += 1
    by_code = dict(sorted(Counter(v.code for v in everything).items()))

    graph = project_coupling(project)
    return Audit(
        root=str(root), files=report.files, lines=sum(_lines(s) for s in sources.values()),
        findings=findings, families=families, by_code=by_code,
        apps=_apps(project, sources, findings),
        score=adoption_score(project, sources, everything).to_json(),
        coupling=coupling_json(graph), matrix=dependency_matrix(graph),
        martin=[m.to_json() for m in martin_metrics(graph)],
        file_hotspots=[h.to_json() for h in file_hotspots(project, everything, churn)],
        function_hotspots=[h.to_json() for h in function_hotspots(project, everything, churn)],
        churn_days=churn_days, git=churn is not None, report=report,
    )


def _apps(project: ProjectModel, sources: dict[str, bytes], findings: list[Finding]) -> list[dict]:
    """One row per app: its files and lines (code the rules look at: exempt files such as
    tests and migrations left out), findings per family and per 1,000 lines."""
    rows: dict[str, dict] = {}

    def row(label: str) -> dict:
        return rows.setdefault(label, {"app": label, "files": 0, "lines": 0,
                                       "families": {name: 0 for name in FAMILIES}, "total": 0})

    for app in project.apps.values():
        row(app.label)
    for path, source in sources.items():
        if path in project.facts_by_path and project.is_exempt(path):
            continue
        app = project.app_of(path) if path in project.facts_by_path else None
        target = row(app.label if app else NO_APP)
        target["files"] += 1
        target["lines"] += _lines(source)
    for finding in findings:
        target = row(finding.app)
        target["families"][family_of(finding.violation.code)] = target["families"].get(
            family_of(finding.violation.code), 0) + 1
        target["total"] += 1
    for target in rows.values():
        kloc = target["lines"] / 1000
        target["density"] = {name: round(n / kloc, 2) if kloc else 0.0 for name, n in target["families"].items()}
        target["density_total"] = round(target["total"] / kloc, 2) if kloc else 0.0
    return sorted(rows.values(), key=lambda r: (r["app"] == NO_APP, r["app"]))


def _lines(source: bytes) -> int:
    return source.count(b"\n") + (1 if source and not source.endswith(b"\n") else 0)


def _snippet(lines: list[str], line: int) -> list[tuple[int, str]]:
    start, end = max(1, line - SNIPPET_CONTEXT), min(len(lines), line + SNIPPET_CONTEXT)
    return [(number, lines[number - 1]) for number in range(start, end + 1)]


def root_relative(root: Path):
    """Displayed path (relative to the working directory) -> root-relative, "/" separators."""
    cwd, resolved = Path.cwd(), root.resolve()

    def convert(path: str) -> str:
        absolute = Path(os.path.normpath(cwd / path))
        try:
            return absolute.relative_to(resolved).as_posix()
        except ValueError:
            try:
                return absolute.resolve().relative_to(resolved).as_posix()
            except ValueError:
                return path
    return convert
