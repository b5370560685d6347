"""The generated rule reference is the rules' own docstrings, never stale."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_docs_rules_md_is_up_to_date():
    spec = importlib.util.spec_from_file_location("generate_rule_docs", ROOT / "scripts" / "generate_rule_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == module.render(), (
        "docs/rules.md is stale: run `python scripts/generate_rule_docs.py`"
    )
