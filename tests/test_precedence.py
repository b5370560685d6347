"""Which rules run, and which config file is read, when several say different things.

Rules (docs/configuration.md): the longer prefix wins between `select` and `ignore`,
`ignore` on a tie; `--select` on the command line starts afresh (the config's `select`
and `ignore` no longer apply, as in ruff), `--ignore` adds to the config's `ignore`;
LG900 runs unless ignored. Config files: in one directory `.layerguard.toml`, then
`layerguard.toml`, then a `pyproject.toml` with `[tool.layerguard]`; the nearest
directory holding one wins; `--config` wins over all.
"""

from __future__ import annotations

import pytest

from conftest import copy_fixture, run_cli, write_tree

# One view that breaks three rules of two families: LG202 (line 8), LG101 (9), LG201 (10).
VIEW = """\
import requests
from django.db import transaction

from shop.models import Order


def pay(request):
    with transaction.atomic():
        Order.objects.create(total=1)
    requests.post("https://payments.example.com")
"""
ALL = {"LG202": 8, "LG101": 9, "LG201": 10}


def _codes(project, *arguments, cwd=None) -> set[str]:
    result = run_cli("check", "--format", "json", *arguments, ".", cwd=cwd or project)
    assert result.exit_code in (0, 1), result.stderr
    found = result.found()
    assert all(ALL[code] == line for code, _, line in found), found
    return {code for code, _, _ in found}


def _toml_list(codes: str) -> str:
    return "[" + ", ".join(f"'{code}'" for code in codes.split(",") if code) + "]"


def test_the_view_breaks_three_rules(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW})
    assert _codes(scaffold) == set(ALL)


@pytest.mark.parametrize("select, ignore, expected", [
    ("LG", "LG2", {"LG101"}),
    ("LG2", "LG201", {"LG202"}),            # the longer ignore wins over the family
    ("LG201", "LG2", {"LG201"}),            # the longer select wins over the ignored family
    ("LG2", "LG2", set()),                  # a tie: ignore wins
    ("LG101,LG202", "", {"LG101", "LG202"}),
    ("LG1,LG20", "LG202", {"LG101", "LG201"}),
])
@pytest.mark.parametrize("where", ["command line", "config"])
def test_the_longer_prefix_wins(scaffold, select, ignore, expected, where):
    write_tree(scaffold, {"shop/views.py": VIEW})
    if where == "config":
        write_tree(scaffold, {"layerguard.toml": f"select = {_toml_list(select)}\nignore = {_toml_list(ignore)}\n"})
        assert _codes(scaffold) == expected
    else:
        assert _codes(scaffold, "--select", select, *(["--ignore", ignore] if ignore else [])) == expected


@pytest.mark.parametrize("config, arguments, expected", [
    ("select = ['LG1']\n", ["--select", "LG2"], {"LG201", "LG202"}),          # --select replaces select
    ("ignore = ['LG101']\n", ["--select", "LG101"], {"LG101"}),               # ... and the config's ignore
    ("ignore = ['LG1']\n", ["--select", "LG", "--ignore", "LG201"], {"LG101", "LG202"}),  # its own --ignore only
    ("ignore = ['LG201']\n", ["--ignore", "LG202"], {"LG101"}),               # --ignore adds to ignore
    ("select = ['LG2']\n", ["--ignore", "LG202"], {"LG201"}),                 # ... and keeps the config's select
])
def test_the_command_line_wins_over_the_config(scaffold, config, arguments, expected):
    write_tree(scaffold, {"shop/views.py": VIEW, "layerguard.toml": config})
    assert _codes(scaffold, *arguments) == expected


def test_lg900_runs_unless_ignored(scaffold):
    write_tree(scaffold, {"shop/broken.py": "def broken(:\n"})
    selected = run_cli("check", "--select", "LG101", "--format", "json", ".", cwd=scaffold)
    assert selected.found() == [("LG900", "shop/broken.py", 1)]
    write_tree(scaffold, {"layerguard.toml": "select = ['LG101']\n"})
    assert run_cli("check", "--format", "json", ".", cwd=scaffold).found() == [("LG900", "shop/broken.py", 1)]
    assert run_cli("check", "--ignore", "LG9", "--format", "json", ".", cwd=scaffold).found() == []


CONFIGS = {
    ".layerguard.toml": "select = ['LG101']\n",
    "layerguard.toml": "select = ['LG201']\n",
    "pyproject.toml": "[tool.layerguard]\nselect = ['LG202']\n",
}


@pytest.mark.parametrize("present, winner", [
    ((".layerguard.toml", "layerguard.toml", "pyproject.toml"), ".layerguard.toml"),
    ((".layerguard.toml", "layerguard.toml"), ".layerguard.toml"),
    ((".layerguard.toml", "pyproject.toml"), ".layerguard.toml"),
    (("layerguard.toml", "pyproject.toml"), "layerguard.toml"),
])
def test_in_one_directory_the_dot_file_then_layerguard_toml_then_pyproject(scaffold, present, winner):
    write_tree(scaffold, {"shop/views.py": VIEW, **{name: CONFIGS[name] for name in present}})
    expected = {".layerguard.toml": {"LG101"}, "layerguard.toml": {"LG201"}, "pyproject.toml": {"LG202"}}[winner]
    assert _codes(scaffold) == expected


def test_the_nearest_directory_with_a_config_wins(tmp_path):
    """A project inside a monorepo that has its own config: the project's is read, not
    the monorepo's, even when the monorepo's is the more preferred file name."""
    write_tree(tmp_path, {".layerguard.toml": "select = ['LG2']\n"})
    project = copy_fixture("example_scaffold", tmp_path / "services")
    write_tree(project, {"shop/views.py": VIEW, "pyproject.toml": "[tool.layerguard]\nselect = ['LG101']\n"})
    assert _codes(project) == {"LG101"}
    # Checking a file from a subdirectory walks up to the same config.
    result = run_cli("check", "--format", "json", "views.py", cwd=project / "shop")
    assert result.found() == [("LG101", "views.py", 9)]


def test_a_pyproject_without_a_layerguard_table_is_passed_over(tmp_path):
    write_tree(tmp_path, {"layerguard.toml": "select = ['LG201']\n"})
    project = copy_fixture("example_scaffold", tmp_path / "services")
    write_tree(project, {"shop/views.py": VIEW, "pyproject.toml": "[tool.black]\nline-length = 100\n"})
    assert _codes(project) == {"LG201"}


def test_config_names_the_file_whatever_else_is_found(scaffold, tmp_path):
    write_tree(scaffold, {"shop/views.py": VIEW, ".layerguard.toml": "select = ['LG101']\n"})
    chosen = tmp_path / "ci.toml"
    chosen.write_text("select = ['LG202']\n")
    assert _codes(scaffold, "--config", str(chosen)) == {"LG202"}
