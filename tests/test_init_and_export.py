"""`layerguard init` writes a config without touching the rest of the user's file, and
`layerguard export-semgrep` gives semgrep users the rules that stand on their own."""

from __future__ import annotations

import yaml

from conftest import run_cli, write_tree
from layerguard.semgrep import run_semgrep

PYPROJECT = '# my project\n[project]\nname = "shop"  # keep this comment\n\n[tool.ruff]\nline-length = 100\n'
VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create(total=1)\n"


def test_init_adds_a_section_and_keeps_the_rest_of_pyproject(scaffold):
    write_tree(scaffold, {"pyproject.toml": PYPROJECT})
    result = run_cli("init", ".", cwd=scaffold)
    assert result.exit_code == 0, result.stderr
    text = (scaffold / "pyproject.toml").read_text()
    assert text.startswith(PYPROJECT)
    assert "[tool.layerguard]" in text and "# Apps found: shop (shop/)" in text
    assert run_cli("check", ".", cwd=scaffold).exit_code == 0  # the written config is valid


def test_init_never_replaces_an_existing_section_without_force(scaffold):
    write_tree(scaffold, {"pyproject.toml": "[tool.layerguard]\nselect = ['LG1']\n"})
    before = (scaffold / "pyproject.toml").read_text()
    refused = run_cli("init", ".", cwd=scaffold)
    assert refused.exit_code == 2 and "--force" in refused.stderr
    assert (scaffold / "pyproject.toml").read_text() == before
    assert run_cli("init", "--force", ".", cwd=scaffold).exit_code == 0
    assert "select = [\"LG\"]" in (scaffold / "pyproject.toml").read_text()


def test_init_without_pyproject_writes_layerguard_toml(scaffold):
    assert run_cli("init", ".", cwd=scaffold).exit_code == 0
    assert "select = [\"LG\"]" in (scaffold / "layerguard.toml").read_text()


def test_init_baseline_freezes_todays_violations(scaffold):
    write_tree(scaffold, {"pyproject.toml": PYPROJECT, "shop/views.py": VIEW})
    assert run_cli("init", "--baseline", ".", cwd=scaffold).exit_code == 0
    assert (scaffold / ".layerguard-baseline.json").is_file()
    assert run_cli("check", ".", cwd=scaffold).exit_code == 0


def test_exported_rules_run_in_semgrep_scoped_away_from_services(scaffold, tmp_path):
    exported = run_cli("export-semgrep", cwd=scaffold)
    rules = yaml.safe_load(exported.stdout)["rules"]
    assert [rule["id"] for rule in rules] == ["layerguard-LG101-orm-write-outside-service-raw-sql"]
    rule_file = tmp_path / "layerguard.yml"
    rule_file.write_text(exported.stdout)
    sql = ('from django.db import connection\n\n\ndef purge():\n    with connection.cursor() as cursor:\n'
           '        cursor.execute("DELETE FROM shop_order")\n')
    write_tree(scaffold, {"shop/views.py": sql, "shop/services.py": sql})
    matches = run_semgrep([rule_file], ["shop/views.py", "shop/services.py"], scaffold)
    assert [(m.path, m.start_line) for m in matches] == [("shop/views.py", 6)]
