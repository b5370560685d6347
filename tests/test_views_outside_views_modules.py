"""Views are found by what they are, not where they live: a routes.py, a web/ package,
a two-level project base class in another module, async methods, decorated functions."""

from __future__ import annotations

from conftest import copy_fixture, run_cli


def test_views_outside_view_modules_are_checked_and_look_alikes_are_not(tmp_path):
    project = copy_fixture("views_outside_views_modules", tmp_path)
    result = run_cli("check", "--select", "LG2", "--format", "json", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    assert sorted(result.found()) == [
        ("LG201", "shop/routes.py", 12),  # notify() = send_mail, aliased, in a ShopAPI -> BaseAPI -> APIView
        ("LG201", "shop/routes.py", 13),  # a task's .delay()
        ("LG201", "shop/routes.py", 26),  # httpx.AsyncClient in an async view method
        ("LG201", "shop/web/pages.py", 10),  # inside a function nested in a @login_required view
        ("LG201", "shop/web/pages.py", 17),  # requests.post in a @require_POST view
        ("LG202", "shop/routes.py", 11),  # `with tx.atomic()`
        ("LG203", "shop/routes.py", 15),  # complexity 4 > 3 (configured)
    ]


def test_the_view_message_names_the_service_module(tmp_path):
    project = copy_fixture("views_outside_views_modules", tmp_path)
    result = run_cli("check", "--select", "LG201", "--format", "json", "shop/routes.py", cwd=project)
    messages = [v["message"] for v in result.json["violations"]]
    assert messages[0] == "notify() sends mail in a view; move it to shop/services.py"
