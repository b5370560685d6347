"""Inline suppressions: `# layerguard: ignore[...]`, `# layerguard: ignore`, `# noqa: LG101`."""

from __future__ import annotations

import pytest

from conftest import run_cli, write_tree


def _check(scaffold, body):
    write_tree(scaffold, {"shop/views.py": "from shop.models import Order\n\n\ndef create(request):\n" + body})
    return run_cli("check", "--format", "json", ".", cwd=scaffold)


@pytest.mark.parametrize("comment", [
    "# layerguard: ignore[LG101]",
    "# layerguard: ignore",
    "# layerguard: ignore[LG202, LG101]",
    "# noqa: LG101",
    "# noqa: E501, LG101",
    "# noqa",
])
def test_a_comment_on_the_reported_line_suppresses(scaffold, comment):
    result = _check(scaffold, f"    Order.objects.create(total=1)  {comment}\n")
    assert result.found() == [] and result.json["summary"]["suppressed"] == 1
    assert result.exit_code == 0


@pytest.mark.parametrize("comment", ["# noqa: E501", "# layerguard: ignore[LG202]", "# noqa: LG1011"])
def test_a_comment_naming_other_codes_suppresses_nothing(scaffold, comment):
    result = _check(scaffold, f"    Order.objects.create(total=1)  {comment}\n")
    assert result.found() == [("LG101", "shop/views.py", 5)]


def test_a_comment_on_the_first_line_of_the_statement_suppresses(scaffold):
    body = "    order = (  # noqa: LG101\n        Order.objects.create(total=1)\n    )\n"
    result = _check(scaffold, body)
    assert result.found() == [] and result.json["summary"]["suppressed"] == 1


def test_per_file_ignores_from_config(scaffold):
    write_tree(scaffold, {"pyproject.toml": '[tool.layerguard.per-file-ignores]\n"shop/views.py" = ["LG1"]\n'})
    result = _check(scaffold, "    Order.objects.create(total=1)\n")
    assert result.found() == [] and result.json["summary"]["suppressed"] == 1
