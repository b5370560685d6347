"""`--format json`: the stable format of SPEC.md. Keys may be added, never changed."""

from __future__ import annotations

from collections import Counter

from layerguard import __version__
from layerguard.reporters import indented_json
from layerguard.checkers import RULES_BY_CODE
from layerguard.report import Report


def render(report: Report, color: bool = False) -> str:
    by_code = Counter(v.code for v in report.violations)
    document = {
        "tool": "layerguard",
        "version": __version__,
        "violations": [
            {
                "code": v.code,
                "name": RULES_BY_CODE[v.code].name,
                "severity": "error",
                "path": v.path,
                "line": v.line,
                "column": v.column,
                "end_line": v.end_line,
                "end_column": v.end_column,
                "message": v.message,
                "app": v.app,
                "fingerprint": v.fingerprint,
                "fix": v.fix,
                "fix_note": v.fix_note,
            }
            for v in report.violations
        ],
        "summary": {
            "files": report.files,
            "violations": len(report.violations),
            "suppressed": report.suppressed,
            "baselined": report.baselined,
            "by_code": dict(sorted(by_code.items())),
            "skipped": len(report.skipped),
            "fixable": dict(sorted(Counter(v.fix for v in report.violations if v.fix != "none").items())),
        },
        # Paths left out (a FIFO, a link to a directory, a file that vanished), and why.
        "skipped": [{"path": path, "reason": reason} for path, reason in report.skipped],
        # Baseline entries that no violation matches any more: debt paid, ready to ratchet.
        "fixed": report.fixed,
    }
    if report.untyped is not None:
        # `--show-untyped`: write-shaped calls LG101 could not type, and why.
        document["untyped"] = report.untyped
    return indented_json.dumps(document) + "\n"
