"""`--format json`: the stable format of SPEC.md. Keys may be added, never changed."""

from __future__ import annotations

from collections import Counter
from json.encoder import encode_basestring_ascii

from layerguard import __version__
from layerguard.reporters import indented_json
from layerguard.checkers import RULES_BY_CODE
from layerguard.report import Report


# Stands for the violations in the document indented_json lays out, then is replaced by
# their own layout (_violations): the first string after the fixed "tool" and "version".
_VIOLATIONS = "\0layerguard violations\0"


def render(report: Report, color: bool = False) -> str:
    by_code = Counter(v.code for v in report.violations)
    document = {
        "tool": "layerguard",
        "version": __version__,
        "violations": _VIOLATIONS,
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
    laid_out = indented_json.dumps(document)
    placeholder = indented_json.dumps(_VIOLATIONS)
    return laid_out.replace(placeholder, _violations(report.violations), 1) + "\n"


def _violations(violations) -> str:
    """The violations as `json.dumps(document, indent=2)` lays them out, one template per
    entry (saleor's 1,871: 0.003 s, against 0.009 s through the general writer)."""
    if not violations:
        return "[]"
    scalar = _scalar
    entries = []
    for v in violations:
        entries.append(
            '{\n      "code": ' + scalar(v.code) + ',\n      "name": ' + scalar(RULES_BY_CODE[v.code].name)
            + ',\n      "severity": "error",\n      "path": ' + scalar(v.path) + ',\n      "line": ' + scalar(v.line)
            + ',\n      "column": ' + scalar(v.column) + ',\n      "end_line": ' + scalar(v.end_line)
            + ',\n      "end_column": ' + scalar(v.end_column) + ',\n      "message": ' + scalar(v.message)
            + ',\n      "app": ' + scalar(v.app) + ',\n      "fingerprint": ' + scalar(v.fingerprint)
            + ',\n      "fix": ' + scalar(v.fix) + ',\n      "fix_note": ' + scalar(v.fix_note) + "\n    }")
    return "[\n    " + ",\n    ".join(entries) + "\n  ]"


def _scalar(value) -> str:
    if type(value) is str:
        return encode_basestring_ascii(value)
    if type(value) is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    # Anything else (a str subclass, a bool) as the general writer does it, at its depth.
    return indented_json.dumps(value).replace("\n", "\n      ")
