"""The YAML rules pass `semgrep test`, and `semgrep test` really fails on a broken rule
or a wrong annotation (so a green run means something)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerguard.semgrep import RULES_DIR, load_rules, prefilter_pattern, run_semgrep

SEMGREP = Path(sys.executable).parent / "semgrep"


def semgrep_test(directory: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off", "NO_COLOR": "1"}
    return subprocess.run([str(SEMGREP), "test", str(directory)], capture_output=True, text=True,
                          env=environment, timeout=300, stdin=subprocess.DEVNULL)


def test_every_rule_passes_semgrep_test():
    result = semgrep_test(RULES_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_yaml_rule_has_an_annotated_target():
    for rule_file in RULES_DIR.glob("*.yaml"):
        target = rule_file.with_suffix(".py")
        assert target.is_file(), f"{rule_file.name} has no test target"
        assert "# ruleid:" in target.read_text() and "# ok:" in target.read_text()


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(RULES_DIR, copy)
    return copy


def test_a_wrong_annotation_fails_semgrep_test(rules_copy):
    target = rules_copy / "LG101-orm-write-outside-service.py"
    text = target.read_text()
    target.write_text(text.replace("# ok: orm-write-outside-service\n", "# ruleid: orm-write-outside-service\n", 1))
    assert semgrep_test(rules_copy).returncode != 0


def test_a_broken_rule_fails_semgrep_test(rules_copy):
    rule = rules_copy / "LG101-orm-write-outside-service.yaml"
    rule.write_text(rule.read_text().replace("pattern: $RECV.$WRITE(...)", "pattern: $RECV.$WRITE((...", 1))
    assert semgrep_test(rules_copy).returncode != 0


# -- prefilters (`layerguard-prefilter`: files without it are never given to semgrep) ----
FIXTURES = Path(__file__).parent / "fixtures"


def _prefilter_targets() -> list[Path]:
    """Every rule's annotated target and every fixture project's Python files: code
    written to be matched, and the look-alikes beside it."""
    return sorted(RULES_DIR.glob("*.py")) + sorted(p for p in FIXTURES.rglob("*.py") if p.is_file() and not p.is_symlink())


def test_every_rule_declares_a_prefilter():
    for rule_file in RULES_DIR.glob("*.yaml"):
        for rule in load_rules(rule_file):
            assert rule.prefilter, f"{rule.id} ({rule_file.name}) has no layerguard-prefilter"
            re.compile(rule.prefilter.encode())


def test_every_match_contains_its_rules_prefilter():
    """Each match's own text contains what its rule's prefilter looks for, so a file that
    lacks it cannot hold a match (the engine does not give it to semgrep)."""
    rules = {rule.id: re.compile(rule.prefilter.encode())
             for rule_file in RULES_DIR.glob("*.yaml") for rule in load_rules(rule_file)}
    targets = _prefilter_targets()
    root = Path(__file__).resolve().parents[1]
    relative = [str(t.resolve().relative_to(root)) for t in targets]
    matches = run_semgrep(sorted(RULES_DIR.glob("*.yaml")), relative, root)
    assert {m.check_id for m in matches} == set(rules)  # every rule matched somewhere
    for match in matches:
        source = (root / match.path).read_bytes()
        text = source[match.start_offset:match.end_offset]
        assert rules[match.check_id].search(text), (match.check_id, match.path, match.start_line, text[:200])


@pytest.mark.parametrize("source, passes", [
    (b"order.save()\n", True),
    (b"order . asave ( )\n", True),
    (b"(order\n    .bulk_update\n    (rows, ['x']))\n", True),
    (b"order.save \\\n    ()\n", True),  # a line continuation
    (b"(order.save  # comment\n ())\n", True),  # a comment between the name and its call
    (b"(order.save  # comment\r\n ())\r\n", True),
    (b"cursor.execute('DELETE FROM x')\n", True),
    (b"@transaction.atomic\ndef f(): pass\n", True),
    (b"apps.get_model('a', 'B')\n", True),
    (b"qs.select_for_update()\n", True),
    (b"save = 1\nprint(save)\n", False),  # the name, never called as a method
    (b"def create(request):\n    return None\n", False),
    (b"x = saved(1)\ny = o.saves()\n", False),
    (b"# order.saved()\n", False),
])
def test_the_prefilter_on_look_alikes_and_odd_layouts(source, passes):
    prefilter = re.compile(prefilter_pattern(sorted(RULES_DIR.glob("*.yaml"))).encode())
    assert bool(prefilter.search(source)) is passes
