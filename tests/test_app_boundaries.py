"""App isolation on a tangled monolith: apps under src/ and nested in the project package,
labels that differ from directories, a models/ package, an allowed `core` app,
settings.AUTH_USER_MODEL read from a settings package, and look-alikes."""

from __future__ import annotations

import shutil

import pytest

from conftest import copy_fixture, run_cli


def test_cross_app_foreign_keys(tmp_path):
    project = copy_fixture("tangled_monolith", tmp_path)
    result = run_cli("check", "--select", "LG401", "--format", "json", ".", cwd=project)
    assert sorted(result.found()) == [
        ("LG401", "config/apps/billing/models.py", 5),  # "sales.Order": label differs from src/orders
        ("LG401", "src/orders/models/order.py", 9),  # "billing.Invoice"
    ]


def test_the_user_model_is_read_from_a_settings_package_and_allowed_with_auth(tmp_path):
    project = copy_fixture("tangled_monolith", tmp_path)
    (project / "pyproject.toml").write_text('[tool.layerguard.lint.LG401]\nallow = ["core"]\n')
    result = run_cli("check", "--select", "LG401", "--format", "json", ".", cwd=project)
    assert sorted(result.found()) == [
        ("LG401", "config/apps/billing/models.py", 5),
        ("LG401", "core/models.py", 9),  # an abstract base's FK, for sales.Order which inherits it
        ("LG401", "src/orders/models/order.py", 8),  # settings.AUTH_USER_MODEL = accounts.User
        ("LG401", "src/orders/models/order.py", 9),
    ]
    messages = {(v["path"], v["line"]): v["message"] for v in result.json["violations"]}
    assert messages[("core/models.py", 9)].startswith("Audited.created_by (inherited by Order) is a ForeignKey to accounts.User")


def test_one_field_is_one_violation_for_every_inheriting_model_and_its_through_model(tmp_path):
    project = copy_fixture("abstract_base_cross_app_fk", tmp_path)
    result = run_cli("check", "--select", "LG401", "--format", "json", ".", cwd=project)
    messages = {(v["path"], v["line"]): v["message"].split(";")[0] for v in result.json["violations"]}
    assert messages == {  # core/models.py:9, created_by (the user model), is allowed
        ("core/models.py", 11): "Audited.team (inherited by Invoice, Parcel, Refund) is a ForeignKey to accounts.Team, "
                                "a model of another app (billing, shipping -> accounts)",
        ("billing/models.py", 9): "Invoice.teams is a ManyToManyField to accounts.Team through accounts.Membership, "
                                  "models of another app (billing -> accounts)",
        ("accounts/models.py", 15): "Membership.invoice is a ForeignKey to billing.Invoice, "
                                    "a model of another app (accounts -> billing)",
    }


def test_cross_app_model_imports(tmp_path):
    project = copy_fixture("tangled_monolith", tmp_path)
    result = run_cli("check", "--select", "LG402", "--format", "json", ".", cwd=project)
    assert sorted(result.found()) == [
        ("LG402", "config/apps/billing/selectors.py", 3),  # `from src.orders import models`
        ("LG402", "config/apps/billing/selectors.py", 7),  # apps.get_model("sales", "Order")
        ("LG402", "src/orders/services.py", 1),  # billing's models; the own-app import on line 2 is fine
    ]


def test_apps_are_found_with_their_labels(tmp_path):
    project = copy_fixture("tangled_monolith", tmp_path)
    result = run_cli("graph", "--format", "json", ".", cwd=project)
    graph = result.json_document() if hasattr(result, "json_document") else __import__("json").loads(result.stdout)
    assert set(graph["apps"]) >= {"accounts", "sales", "billing", "core", "reports"}
    assert "scripts" not in graph["apps"]
    assert "loaders" not in graph["apps"]  # src/orders/loaders/apps.py has no AppConfig


def test_graph_lists_cycles(tmp_path):
    project = copy_fixture("tangled_monolith", tmp_path)
    result = run_cli("graph", "--format", "json", ".", cwd=project)
    graph = __import__("json").loads(result.stdout)
    assert ["billing", "sales", "billing"] in graph["cycles"]
    assert "cycle: billing -> sales -> billing" in result.stderr


def test_graph_mermaid_is_well_formed(tmp_path):
    project = copy_fixture("tangled_monolith", tmp_path)
    result = run_cli("graph", ".", cwd=project)
    lines = result.stdout.splitlines()
    assert lines[0] == "graph LR"
    assert '    app_sales -->|"1 FK, 1 import"| app_billing' in lines
    assert all(line.startswith("    ") for line in lines[1:])


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed (apt-get install graphviz)")
@pytest.mark.parametrize("project_name", ["tangled_monolith", "example"])
def test_graph_dot_renders_with_graphviz(tmp_path, project_name):
    import subprocess
    from pathlib import Path

    if project_name == "example":
        project = tmp_path / "example"
        shutil.copytree(Path(__file__).parent.parent / "example", project)
    else:
        project = copy_fixture(project_name, tmp_path)
    result = run_cli("graph", "--format", "dot", ".", cwd=project)
    rendered = subprocess.run(["dot", "-Tsvg"], input=result.stdout, capture_output=True, text=True)
    assert rendered.returncode == 0, rendered.stderr
    assert "<svg" in rendered.stdout


@pytest.mark.parametrize("fixture", ["tangled_monolith", "abstract_base_cross_app_fk", "model_graph"])
def test_one_files_relations_are_those_of_the_whole_project_written_there(fixture, tmp_path):
    """relation_references(project, path), what LG401 asks on each file (the models found
    through the stored ancestry of every model), gives exactly the references of the
    whole-project answer that are written in that file, abstract bases and mixins included."""
    from layerguard.checkers import rule_catalog
    from layerguard.checkers.app_boundaries import relation_references
    from layerguard.config import find_config_file, load_settings
    from layerguard.engine import build_project

    project_dir = copy_fixture(fixture, tmp_path).resolve()
    settings = load_settings(find_config_file(project_dir), project_dir, rule_catalog())
    whole, _ = build_project(settings)
    everything = relation_references(whole)
    assert everything  # the fixture has relations to other apps
    for path in whole.modules_by_path:
        one, _ = build_project(settings)  # a model with nothing memoized
        # (With a path, the references of the models looked at, written there or not.)
        assert [r for r in relation_references(one, path) if r.path == path] == \
            [r for r in everything if r.path == path], path
