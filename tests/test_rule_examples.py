"""Every rule's VALID / INVALID examples, collected automatically (STYLE.md §1).

Each example becomes a small Django project (tests/fixtures/example_scaffold plus
the example's files) checked through the real CLI and the real semgrep, with only
that rule selected.
"""

from __future__ import annotations

import re

import pytest

from conftest import copy_fixture, run_cli, write_tree
from layerguard.checkers import ALL_RULES
from layerguard.checkers.base import DOC_HEADINGS


def _cases(kind: str):
    for rule in ALL_RULES:
        for index, example in enumerate(getattr(rule, kind)):
            yield pytest.param(rule, example, id=f"{rule.code}-{kind.lower()}-{index}")


def _run(rule, example, tmp_path):
    project = copy_fixture("example_scaffold", tmp_path)
    write_tree(project, example.files)
    target = project / example.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(example.source, encoding="utf-8")
    result = run_cli("check", "--select", rule.code, "--format", "json", ".", cwd=project)
    assert result.exit_code in (0, 1), result.stderr
    return [line for code, path, line in result.found(rule.code) if path == example.path], result


@pytest.mark.parametrize("rule, example", list(_cases("INVALID")))
def test_invalid_example_is_reported_on_the_marked_lines(rule, example, tmp_path):
    lines, result = _run(rule, example, tmp_path)
    assert sorted(lines) == example.expected_lines(), result.stdout
    assert result.exit_code == 1


@pytest.mark.parametrize("rule, example", list(_cases("VALID")))
def test_valid_example_is_not_reported(rule, example, tmp_path):
    lines, result = _run(rule, example, tmp_path)
    assert lines == [], result.stdout


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_rule_is_documented_with_the_four_headings_and_examples(rule):
    doc = rule.documentation()
    positions = [doc.find(heading) for heading in DOC_HEADINGS]
    assert all(position >= 0 for position in positions), f"{rule.code} lacks one of {DOC_HEADINGS}"
    assert positions == sorted(positions), f"{rule.code}'s headings are out of order"
    assert rule.VALID and rule.INVALID, f"{rule.code} needs both VALID and INVALID examples"
    assert all(example.expected_lines() for example in rule.INVALID), f"{rule.code}: an INVALID example marks no line"
    assert re.fullmatch(r"LG\d{3}", rule.code) and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
