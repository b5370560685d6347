"""`audit --format json`: the SPEC's check document (violations still open, summary)
with the audit's aggregates under "audit". Keys may be added, never changed
(docs/audit.md lists them)."""

from __future__ import annotations

import json

from layerguard.audit.collect import Audit
from layerguard.reporters.json_format import render as render_check


def document(audit: Audit) -> dict:
    result = json.loads(render_check(audit.report))
    result["audit"] = audit.to_json()
    result["audit"]["findings"] = [finding.to_json() for finding in audit.findings]
    return result


def render_json(audit: Audit) -> str:
    return json.dumps(document(audit), indent=2) + "\n"
