"""The command line as users meet it: exit codes, formats, rules, explain, failures."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import run_cli, write_tree

VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create(total=1)\n"

# The SPEC's rule table (/work/shared/SPEC.md, "Rules"), copied by hand: the contract the
# registry must meet, never read from the registry itself.
SPEC_RULES = {
    "LG101": "orm-write-outside-service", "LG201": "side-effect-in-view", "LG202": "transaction-in-view",
    "LG203": "complex-view", "LG204": "complex-query-in-view", "LG205": "query-in-loop-in-view",
    "LG301": "side-effect-in-serializer", "LG302": "logic-in-serializer-save", "LG303": "transaction-in-serializer",
    "LG304": "query-in-serializer", "LG401": "cross-app-foreign-key", "LG402": "cross-app-model-import",
    "LG501": "http-in-service", "LG900": "parse-error",
}


def test_exit_codes_are_0_clean_1_violations_and_exit_zero_forces_0(scaffold):
    assert run_cli("check", ".", cwd=scaffold).exit_code == 0
    write_tree(scaffold, {"shop/views.py": VIEW})
    assert run_cli("check", ".", cwd=scaffold).exit_code == 1
    assert run_cli("check", "--exit-zero", ".", cwd=scaffold).exit_code == 0


def test_text_output_is_ruff_style(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    result = run_cli("check", ".", cwd=scaffold)
    assert result.stdout.splitlines() == [
        # [*unsafe]: a fix that moves code between modules is available (--fix --unsafe-fixes)
        "shop/views.py:5:5: LG101 [*unsafe] Order.objects.create() writes to the database in a view; "
        "move it to shop/services.py",
        "Found 1 error (7 files checked, 1 with --fix --unsafe-fixes).",
    ]


def test_json_output_has_the_spec_shape(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    document = run_cli("check", "--format", "json", ".", cwd=scaffold).json
    assert document["tool"] == "layerguard" and document["version"] == "0.1.0"
    (violation,) = document["violations"]
    assert violation == {
        "code": "LG101", "name": "orm-write-outside-service", "severity": "error",
        "path": "shop/views.py", "line": 5, "column": 5, "end_line": 5, "end_column": 34,
        "message": "Order.objects.create() writes to the database in a view; move it to shop/services.py",
        "app": "shop",
        # SPEC: the fingerprint is the code, the path, the offending line's normalised text
        # and its occurrence (the first), hashed: sha256 of the four joined by \x1f, 16 hex digits.
        "fingerprint": hashlib.sha256("\x1f".join(
            ["LG101", "shop/views.py", "Order.objects.create(total=1)", "0"]).encode()).hexdigest()[:16],
        # Added for 0.2 (SPEC: "fix": "safe" | "unsafe" | "none"), with what the fix does.
        "fix": "unsafe", "fix_note": "extract to a service function `order_create` in shop/services.py",
    }
    assert document["summary"] == {"files": 7, "violations": 1, "suppressed": 0, "baselined": 0, "by_code": {"LG101": 1},
                                   "skipped": 0, "fixable": {"unsafe": 1}}
    assert document["skipped"] == []


def test_paths_are_relative_to_the_working_directory(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    result = run_cli("check", "--format", "json", scaffold.name, cwd=scaffold.parent)
    assert result.found() == [("LG101", f"{scaffold.name}/shop/views.py", 5)]


def test_checking_one_file_still_knows_the_projects_models(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    result = run_cli("check", "--format", "json", "shop/views.py", cwd=scaffold)
    assert result.found() == [("LG101", "shop/views.py", 5)]
    assert result.json["summary"]["files"] == 1


def test_output_file_gets_the_report_and_stdout_stays_empty(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    result = run_cli("check", "--format", "json", "--output", "report.json", ".", cwd=scaffold)
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads((scaffold / "report.json").read_text())["summary"]["violations"] == 1


def test_select_and_ignore_on_the_command_line(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    assert run_cli("check", "--ignore", "LG1", ".", cwd=scaffold).exit_code == 0
    assert run_cli("check", "--select", "LG101", ".", cwd=scaffold).exit_code == 1


def test_checked_files_are_never_modified(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    before = {p: p.read_bytes() for p in scaffold.rglob("*") if p.is_file()}
    run_cli("check", ".", cwd=scaffold)
    after = {p: p.read_bytes() for p in scaffold.rglob("*") if p.is_file()}
    assert before == after


def test_rules_lists_every_code_with_its_name():
    result = run_cli("rules", cwd=Path.cwd())
    assert result.exit_code == 0
    listed = dict(line.split()[:2] for line in result.stdout.splitlines() if line.strip())
    assert listed == SPEC_RULES


def test_the_readme_rule_table_has_every_spec_code():
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    rows = [line.split("|")[1:3] for line in readme.splitlines() if line.startswith("| LG")]
    assert {code.strip(): name.strip() for code, name in rows} == SPEC_RULES


def test_explain_knows_every_spec_code():
    for code, name in SPEC_RULES.items():
        result = run_cli("explain", code, cwd=Path.cwd())
        assert result.exit_code == 0 and f"# {name} ({code})" in result.stdout, code


def test_explain_prints_the_rule_page_in_four_sections():
    result = run_cli("explain", "LG101", cwd=Path.cwd())
    assert result.exit_code == 0
    for heading in ("# orm-write-outside-service (LG101)", "## What it does", "## Why is this bad?",
                    "## Example", "## Use instead"):
        assert heading in result.stdout


def test_explain_an_unknown_code_is_exit_2():
    result = run_cli("explain", "LG999", cwd=Path.cwd())
    assert result.exit_code == 2 and "unknown rule" in result.stderr


def test_python_m_layerguard_works():
    completed = subprocess.run([sys.executable, "-m", "layerguard", "--version"], capture_output=True, text=True)
    assert completed.returncode == 0 and "0.1.0" in completed.stdout


def test_a_missing_semgrep_is_one_line_and_exit_2(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    environment = {**os.environ, "LAYERGUARD_SEMGREP": str(scaffold / "no-such-semgrep")}
    completed = subprocess.run([sys.executable, "-m", "layerguard", "check", "."], cwd=scaffold,
                               capture_output=True, text=True, env=environment)
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and "semgrep" in completed.stderr and "Traceback" not in completed.stderr


def test_a_semgrep_that_prints_junk_is_one_line_and_exit_2(scaffold, tmp_path):
    fake = tmp_path / "fake-semgrep"
    fake.write_text("#!/bin/sh\necho 'not json'\necho 'boom: semgrep crashed' >&2\nexit 3\n")
    fake.chmod(0o755)
    write_tree(scaffold, {"shop/views.py": VIEW})
    environment = {**os.environ, "LAYERGUARD_SEMGREP": str(fake)}
    completed = subprocess.run([sys.executable, "-m", "layerguard", "check", "."], cwd=scaffold,
                               capture_output=True, text=True, env=environment)
    assert completed.returncode == 2
    assert completed.stderr.strip() == "layerguard: error: semgrep failed: boom: semgrep crashed"


def test_semgrep_is_not_started_when_no_rule_needs_it(scaffold):
    write_tree(scaffold, {"shop/views.py": "def broken(:\n"})
    environment = {**os.environ, "LAYERGUARD_SEMGREP": str(scaffold / "no-such-semgrep")}
    completed = subprocess.run([sys.executable, "-m", "layerguard", "check", "--select", "LG900", "."],
                               cwd=scaffold, capture_output=True, text=True, env=environment)
    assert completed.returncode == 1 and "LG900" in completed.stdout


def test_a_semgrep_that_hangs_is_stopped_with_one_line_and_exit_2(scaffold, tmp_path):
    fake = tmp_path / "slow-semgrep"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    write_tree(scaffold, {"shop/views.py": VIEW})
    environment = {**os.environ, "LAYERGUARD_SEMGREP": str(fake), "LAYERGUARD_SEMGREP_TIMEOUT": "1"}
    completed = subprocess.run([sys.executable, "-m", "layerguard", "check", "."], cwd=scaffold,
                               capture_output=True, text=True, env=environment, timeout=20)
    assert completed.returncode == 2
    assert completed.stderr.strip() == "layerguard: error: semgrep did not finish within 1 s (LAYERGUARD_SEMGREP_TIMEOUT)"
