"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).

Every rule is described in the driver (name, summary, full documentation as help), and
each result carries layerguard's fingerprint as a partial fingerprint, so code scanning
tracks an alert across commits that move it.
"""

from __future__ import annotations


from layerguard import __version__
from layerguard.reporters import indented_json
from layerguard.checkers import ALL_RULES
from layerguard.report import Report

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/layerguard/layerguard"


def render(report: Report, color: bool = False) -> str:
    rule_index = {rule.code: index for index, rule in enumerate(ALL_RULES)}
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary()},
            "fullDescription": {"text": rule.summary()},
            "help": {"text": rule.documentation(), "markdown": rule.documentation()},
            "helpUri": f"{INFORMATION_URI}/blob/main/docs/rules.md#{rule.name}-{rule.code.lower()}",
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["architecture", "django"]},
        }
        for rule in ALL_RULES
    ]
    results = [
        {
            "ruleId": v.code,
            "ruleIndex": rule_index[v.code],
            "level": "error",
            "message": {"text": v.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": v.path, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": v.line, "startColumn": v.column,
                               "endLine": v.end_line, "endColumn": max(v.end_column, v.column)},
                },
            }],
            "partialFingerprints": {"layerguardFingerprint/v1": v.fingerprint},
        }
        for v in report.violations
    ]
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "layerguard", "version": __version__, "semanticVersion": __version__,
                                "informationUri": INFORMATION_URI, "rules": rules}},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return indented_json.dumps(document) + "\n"
