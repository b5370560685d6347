"""The YAML rules pass `semgrep test`, and `semgrep test` really fails on a broken rule
or a wrong annotation (so a green run means something)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from layerguard.semgrep import RULES_DIR

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
