"""`layerguard export-semgrep`: the YAML rules that are precise without the project model.

Most of layerguard's YAML only finds candidates (every `.save()`, every `with ...atomic`)
and relies on the project model to decide; exporting those would flood a semgrep run
with false positives. Rules marked `layerguard-standalone: true` are exported, scoped
with `paths:` to the modules the rule is about.
"""

from __future__ import annotations

import yaml

from layerguard.config import DEFAULT_EXEMPT_MODULES, DEFAULT_SERVICE_MODULES
from layerguard.semgrep import RULES_DIR

HEADER = ("# layerguard's standalone semgrep rules (layerguard export-semgrep).\n"
          "# Rules that need layerguard's project model are not here: see docs/semgrep-export.md.\n")


def standalone_rules_yaml() -> str:
    exported = []
    for rule_file in sorted(RULES_DIR.glob("*.yaml")):
        document = yaml.safe_load(rule_file.read_text(encoding="utf-8"))
        for rule in document["rules"]:
            if rule.get("metadata", {}).get("layerguard-standalone"):
                rule = dict(rule)
                rule["id"] = f"layerguard-{rule['metadata']['layerguard-code']}-{rule['id']}"
                rule["paths"] = {"exclude": [*DEFAULT_SERVICE_MODULES, *DEFAULT_EXEMPT_MODULES]}
                exported.append(rule)
    return HEADER + yaml.safe_dump({"rules": exported}, sort_keys=False)
