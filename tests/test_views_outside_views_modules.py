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


def test_a_module_both_globs_name_takes_the_role_of_the_deeper_part_of_its_path(scaffold):
    """`services/views/edit.py` (shuup's admin module for shipping and payment services)
    is a view module; `views/services.py` is a service module."""
    from conftest import write_tree

    write_tree(scaffold, {
        "shop/services/__init__.py": "",
        "shop/services/views/__init__.py": "",
        "shop/services/views/edit.py": (
            "from django.http import HttpResponse\n\nfrom shop.models import Order\n\n\n"
            "def edit(request):\n    Order.objects.create(total=1)\n    return HttpResponse()\n"),
        "shop/views/__init__.py": "",
        "shop/views/services.py": (
            "from shop.models import Order\n\n\n"
            "def order_create(request):\n    return Order.objects.create(total=1)\n"),
    })
    result = run_cli("check", "--select", "LG101,LG501", "--format", "json", ".", cwd=scaffold)
    assert sorted((code, path, line) for code, path, line in result.found() if "/services" in path) == [
        ("LG101", "shop/services/views/edit.py", 7),  # a write in a view
        ("LG501", "shop/views/services.py", 4),  # a service taking the request
    ]
    messages = {v["path"]: v["message"] for v in result.json["violations"]}
    assert messages["shop/services/views/edit.py"] == (
        "Order.objects.create() writes to the database in a view; move it to shop/services/")
