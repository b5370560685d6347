"""Modules are exempt by what they are: settings named by DJANGO_SETTINGS_MODULE or that
look like settings, and test support (test.py, TestCase subclasses, pytest fixtures,
factory_boy factories); a settings.py inside views/ is a view module."""

from __future__ import annotations

from conftest import copy_fixture, run_cli


def test_settings_and_test_support_are_exempt_and_a_views_settings_module_is_checked(tmp_path):
    project = copy_fixture("modules_by_what_they_are", tmp_path)
    result = run_cli("check", "--format", "json", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    assert sorted(result.found()) == [
        ("LG101", "shop/reports.py", 6),  # ordinary code, the control
        ("LG101", "shop/views/settings.py", 9),  # a view, though named settings.py
        ("LG201", "shop/views/settings.py", 10),
    ]


def test_the_settings_page_view_is_reported_as_a_view(tmp_path):
    project = copy_fixture("modules_by_what_they_are", tmp_path)
    result = run_cli("check", "--select", "LG101", "--format", "json", "shop/views/settings.py", cwd=project)
    (violation,) = result.json["violations"]
    assert violation["message"] == (
        "Order.objects.filter(...).delete() writes to the database in a view; move it to shop/services.py")
