"""A legacy project adopts layerguard today and fails only on new violations."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import run_cli, write_tree

VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create(total=1)\n"


def _baseline(project):
    return json.loads((project / ".layerguard-baseline.json").read_text())


def test_write_baseline_then_check_passes_and_counts_baselined(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    written = run_cli("check", "--write-baseline", ".", cwd=scaffold)
    assert written.exit_code == 0 and "wrote 1 entries" in written.stderr
    result = run_cli("check", "--baseline", ".layerguard-baseline.json", "--format", "json", ".", cwd=scaffold)
    assert result.exit_code == 0 and result.json["summary"]["baselined"] == 1 and result.found() == []


def test_a_new_violation_fails_and_only_it_is_reported(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    run_cli("check", "--write-baseline", ".", cwd=scaffold)
    write_tree(scaffold, {"shop/views.py": VIEW + "    Order.objects.filter(total=0).delete()\n"})
    result = run_cli("check", "--baseline", ".layerguard-baseline.json", "--format", "json", ".", cwd=scaffold)
    assert result.exit_code == 1 and result.found() == [("LG101", "shop/views.py", 6)]


def test_fingerprints_survive_edits_that_shift_lines(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    run_cli("check", "--write-baseline", ".", cwd=scaffold)
    write_tree(scaffold, {"shop/views.py": '"""Orders."""\nimport logging\n\n' + VIEW})
    result = run_cli("check", "--baseline", ".layerguard-baseline.json", ".", cwd=scaffold)
    assert result.exit_code == 0


def test_two_identical_offending_lines_stay_distinct(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    run_cli("check", "--write-baseline", ".", cwd=scaffold)
    write_tree(scaffold, {"shop/views.py": VIEW + "    Order.objects.create(total=1)\n"})
    result = run_cli("check", "--baseline", ".layerguard-baseline.json", "--format", "json", ".", cwd=scaffold)
    assert result.exit_code == 1 and len(result.found()) == 1


def test_fixed_entries_are_reported_so_teams_can_ratchet(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW + "    Order.objects.filter(total=0).delete()\n"})
    run_cli("check", "--write-baseline", ".", cwd=scaffold)
    write_tree(scaffold, {"shop/views.py": VIEW})
    result = run_cli("check", "--baseline", ".layerguard-baseline.json", "--format", "json", ".", cwd=scaffold)
    assert result.exit_code == 0
    assert [entry["line"] for entry in result.json["fixed"]] == [6]
    text = run_cli("check", "--baseline", ".layerguard-baseline.json", ".", cwd=scaffold)
    assert "1 baseline entry fixed" in text.stdout


def test_baseline_file_is_sorted_and_stable(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW, "shop/tasks.py": VIEW})
    run_cli("check", "--write-baseline", ".", cwd=scaffold)
    first = (scaffold / ".layerguard-baseline.json").read_bytes()
    run_cli("check", "--write-baseline", ".", cwd=scaffold)
    assert (scaffold / ".layerguard-baseline.json").read_bytes() == first
    paths = [entry["path"] for entry in _baseline(scaffold)["entries"]]
    assert paths == sorted(paths)


def test_the_baseline_key_in_config_is_used(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW, "pyproject.toml": '[tool.layerguard]\nbaseline = "debt.json"\n'})
    run_cli("check", "--write-baseline", ".", cwd=scaffold)
    assert (scaffold / "debt.json").is_file()
    assert run_cli("check", ".", cwd=scaffold).exit_code == 0


def test_a_missing_configured_baseline_is_an_error_naming_the_file(scaffold):
    write_tree(scaffold, {"pyproject.toml": '[tool.layerguard]\nbaseline = "debt.json"\n'})
    result = run_cli("check", ".", cwd=scaffold)
    assert result.exit_code == 2 and "debt.json" in result.stderr


def test_write_baseline_never_grows_the_baseline_in_ci(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    run_cli("check", "--write-baseline", ".", cwd=scaffold)
    write_tree(scaffold, {"shop/views.py": VIEW + "    Order.objects.filter(total=0).delete()\n"})
    environment = {**os.environ, "CI": "true"}
    completed = subprocess.run([sys.executable, "-m", "layerguard", "check", "--write-baseline", "."],
                               cwd=scaffold, capture_output=True, text=True, env=environment)
    assert completed.returncode == 2 and "would add 1 new violation" in completed.stderr
    assert len(_baseline(scaffold)["entries"]) == 1


def test_write_baseline_on_part_of_the_tree_keeps_the_other_entries(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW, "shop/tasks.py": VIEW})
    run_cli("check", "--write-baseline", ".", cwd=scaffold)
    write_tree(scaffold, {"shop/views.py": "def create(request):\n    return None\n"})
    run_cli("check", "--write-baseline", "shop/views.py", cwd=scaffold)
    assert [entry["path"] for entry in _baseline(scaffold)["entries"]] == ["shop/tasks.py"]
