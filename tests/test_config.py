"""Configuration: found by walking up, validated, every error names key and file (exit 2)."""

from __future__ import annotations

import pytest

from conftest import run_cli, write_tree

VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create(total=1)\n"


@pytest.mark.parametrize("config, key", [
    ("[tool.layerguard]\nselekt = ['LG']\n", "tool.layerguard.selekt"),
    ("[tool.layerguard]\nselect = 'LG101'\n", "tool.layerguard.select"),
    ("[tool.layerguard]\nselect = ['LG999']\n", "tool.layerguard.select"),
    ("[tool.layerguard]\nignore = ['E501']\n", "tool.layerguard.ignore"),
    ("[tool.layerguard.lint.LG777]\nx = 1\n", "tool.layerguard.lint.LG777"),
    ("[tool.layerguard.lint.LG101]\nmax-complexity = 3\n", "tool.layerguard.lint.LG101.max-complexity"),
    ("[tool.layerguard]\nbaseline = 3\n", "tool.layerguard.baseline"),
    ("[tool.layerguard]\nservice-modules = ['**/services/[.py']\n", "tool.layerguard.service-modules"),
    ("[tool.layerguard.lint.LG201]\nside-effects = 'stripe.*'\n", "tool.layerguard.lint.LG201.side-effects"),
    ("[tool.layerguard.lint.LG301]\nside-effects = ['stripe.*', '']\n", "tool.layerguard.lint.LG301.side-effects"),
    ("[tool.layerguard.lint.LG301]\nextend-side-effects = [' ']\n", "tool.layerguard.lint.LG301.extend-side-effects"),
])
def test_a_bad_setting_is_one_line_naming_key_and_file(scaffold, config, key):
    write_tree(scaffold, {"pyproject.toml": config, "shop/views.py": VIEW})
    result = run_cli("check", ".", cwd=scaffold)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pyproject.toml" in lines[0] and f"`{key}`" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_toml_is_an_error_naming_the_file(scaffold):
    write_tree(scaffold, {"layerguard.toml": "select = [\n"})
    result = run_cli("check", ".", cwd=scaffold)
    assert result.exit_code == 2 and "layerguard.toml" in result.stderr and "invalid TOML" in result.stderr


def test_config_is_found_by_walking_up_from_the_first_path(scaffold):
    write_tree(scaffold, {"layerguard.toml": "ignore = ['LG101']\n", "shop/views.py": VIEW})
    result = run_cli("check", "--format", "json", "views.py", cwd=scaffold / "shop")
    assert result.found() == [] and result.exit_code == 0


def test_dot_layerguard_toml_wins_over_pyproject(scaffold):
    write_tree(scaffold, {
        ".layerguard.toml": "select = ['LG101']\n",
        "pyproject.toml": "[tool.layerguard]\nignore = ['LG101']\n",
        "shop/views.py": VIEW,
    })
    result = run_cli("check", "--format", "json", ".", cwd=scaffold)
    assert result.found() == [("LG101", "shop/views.py", 5)]


def test_service_modules_setting_moves_the_service_layer(scaffold):
    write_tree(scaffold, {
        "pyproject.toml": "[tool.layerguard]\nservice-modules = ['**/domain/**/*.py']\n",
        "shop/domain/__init__.py": "",
        "shop/domain/orders.py": VIEW,
        "shop/services.py": VIEW,
    })
    result = run_cli("check", "--select", "LG101", "--format", "json", ".", cwd=scaffold)
    assert result.found() == [("LG101", "shop/services.py", 5)]


def test_exclude_and_gitignore_and_virtualenvs_are_skipped(scaffold):
    write_tree(scaffold, {
        "pyproject.toml": "[tool.layerguard]\nextend-exclude = ['legacy/']\n",
        ".gitignore": "generated/\n",
        "legacy/views.py": VIEW,
        "generated/views.py": VIEW,
        "env/pyvenv.cfg": "home = /usr\n",
        "env/lib/views.py": VIEW,
        "shop/views.py": VIEW,
    })
    result = run_cli("check", "--format", "json", ".", cwd=scaffold)
    assert result.found() == [("LG101", "shop/views.py", 5)]


def test_unknown_code_on_the_command_line_is_a_usage_error(scaffold):
    result = run_cli("check", "--select", "LG12", ".", cwd=scaffold)
    assert result.exit_code == 2 and "LG12" in result.stderr


def test_an_explicit_config_elsewhere_does_not_move_the_project_root(scaffold, tmp_path):
    outside = tmp_path / "configs" / "layerguard.toml"
    outside.parent.mkdir()
    outside.write_text("select = ['LG101']\n")
    write_tree(scaffold, {"shop/views.py": VIEW})
    result = run_cli("check", "--config", outside, "--format", "json", ".", cwd=scaffold)
    assert result.found() == [("LG101", "shop/views.py", 5)]
    assert result.json["summary"]["files"] == 7
