"""Modules are what they are, not only what they are called: settings named by
DJANGO_SETTINGS_MODULE or that look like settings, and test support (test.py, TestCase
subclasses, pytest fixtures, factory_boy factories) are exempt; a settings.py inside views/
is a view module; an api.py without a view is not one."""

from __future__ import annotations

from conftest import copy_fixture, run_cli


def test_settings_and_test_support_are_exempt_and_a_views_settings_module_is_checked(tmp_path):
    project = copy_fixture("modules_by_what_they_are", tmp_path)
    result = run_cli("check", "--format", "json", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    assert sorted(result.found()) == [
        ("LG101", "shop/api.py", 9),  # a write outside a service, but no LG202: api.py holds no view
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


def test_a_write_in_an_api_module_without_views_is_not_said_to_be_in_a_view(tmp_path):
    project = copy_fixture("modules_by_what_they_are", tmp_path)
    result = run_cli("check", "--format", "json", "shop/api.py", cwd=project)
    (violation,) = result.json["violations"]
    assert violation["message"] == (
        "Order.objects.create() writes to the database outside a service module; move it to shop/services.py")
