"""The example project of the README's quick start reports what its comments promise."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import run_cli

EXAMPLE = Path(__file__).parent.parent / "example"


def test_example_project_reports_the_leaked_writes_and_nothing_else(tmp_path):
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project)
    result = run_cli("check", "--select", "LG101", "--format", "json", cwd=project)
    assert result.exit_code == 1, result.stderr
    assert sorted(result.found("LG101")) == [
        ("LG101", "billing/views.py", 19),  # raw SQL DELETE in a DRF view
        ("LG101", "shop/selectors.py", 10),  # a selector that writes
        ("LG101", "shop/serializers.py", 15),  # serializer.create() doing the work itself
        ("LG101", "shop/serializers.py", 17),  # a related manager write
        ("LG101", "shop/tasks.py", 8),  # a task writing directly
        ("LG101", "shop/views.py", 29),  # order.save() in an APIView
    ]


def test_example_fat_view_and_coupling_are_reported(tmp_path):
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project)
    result = run_cli("check", "--ignore", "LG101", "--format", "json", cwd=project)
    assert sorted(result.found()) == [
        ("LG201", "shop/views.py", 53),  # send_mail in a view
        ("LG202", "shop/views.py", 50),  # with transaction.atomic()
        ("LG202", "shop/views.py", 51),  # select_for_update()
        ("LG302", "shop/serializers.py", 13),  # create() does the work itself
        ("LG401", "billing/models.py", 5),  # payments -> shop foreign key
    ]


def test_example_messages_say_where_the_write_should_go(tmp_path):
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project)
    result = run_cli("check", "--select", "LG101", "--format", "json", cwd=project)
    messages = {v["path"]: v["message"] for v in result.json["violations"]}
    assert messages["shop/views.py"] == "order.save() writes to the database in a view; move it to shop/services.py"
    assert messages["billing/views.py"].endswith("in a view; move it to billing/services.py")
