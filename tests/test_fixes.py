"""`check --fix`: every fix kind's before/after examples, and the fixable_shop project
fixed for real: it parses, keeps behaviour (Django's checks and its own request-level
test before and after), is idempotent, and a dry run writes nothing."""

from __future__ import annotations

import ast
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, copy_fixture, run_cli, write_tree
from layerguard.fixes import FIX_KINDS
from layerguard.fixes.writer import UnsafeWrite, check_edit
from layerguard.fixes import FileEdit

MOVE_CODES = "LG101,LG202,LG303"


def _examples(kind: str):
    module = FIX_KINDS[kind]
    return [pytest.param(example, id=f"{kind}-{i}") for i, example in enumerate(module.FIXED)]


def _refusals(kind: str):
    module = FIX_KINDS[kind]
    return [pytest.param(example, id=f"{kind}-{i}") for i, example in enumerate(module.NOT_FIXED)]


@pytest.mark.parametrize("example", [p for kind in FIX_KINDS for p in _examples(kind)])
def test_fix_example_gives_the_expected_source(scaffold, example):
    write_tree(scaffold, example.files_before())
    result = run_cli("check", "--fix", "--unsafe-fixes", "--select", MOVE_CODES, ".", cwd=scaffold)
    assert result.exit_code in (0, 1), result.stderr
    for path, expected in example.files_after().items():
        assert (scaffold / path).read_text(encoding="utf-8") == expected, path
    again = run_cli("check", "--select", MOVE_CODES, "--format", "json", ".", cwd=scaffold)
    assert [v for v in again.json["violations"] if v["fix"] != "none"] == []


@pytest.mark.parametrize("example", [p for kind in FIX_KINDS for p in _refusals(kind)])
def test_no_fix_where_moving_changes_behaviour_and_the_reason_is_given(scaffold, example):
    write_tree(scaffold, {example.path: example.source, **example.files})
    before = (scaffold / example.path).read_bytes()
    result = run_cli("check", "--select", MOVE_CODES, "--format", "json", ".", cwd=scaffold)
    violations = result.json["violations"]
    assert violations, result.stdout
    assert all(v["fix"] == "none" for v in violations)
    assert any(example.reason in v["fix_note"] for v in violations), [v["fix_note"] for v in violations]
    run_cli("check", "--fix", "--unsafe-fixes", "--select", MOVE_CODES, ".", cwd=scaffold)
    assert (scaffold / example.path).read_bytes() == before


def test_every_fix_kind_has_examples_of_both_kinds():
    for kind, module in FIX_KINDS.items():
        assert module.FIXED and module.NOT_FIXED, kind


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _behaviour(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=project,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


@pytest.fixture
def fixable_shop(tmp_path):
    pytest.importorskip("django")
    pytest.importorskip("pytest_django")
    return copy_fixture("fixable_shop", tmp_path)


def test_fixing_the_shop_moves_its_writes_into_services_and_keeps_behaviour(fixable_shop):
    before = _behaviour(fixable_shop)
    assert before.returncode == 0, before.stdout + before.stderr
    first = run_cli("check", "--format", "json", cwd=fixable_shop)
    fixable = [v for v in first.json["violations"] if v["fix"] == "unsafe"]
    assert {v["code"] for v in fixable} == {"LG101", "LG202"}

    fixed = run_cli("check", "--fix", "--unsafe-fixes", cwd=fixable_shop)
    assert "fixed 8 violation(s) in 7 file(s)" in fixed.stderr, fixed.stderr

    for path in fixable_shop.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    expected_root = FIXTURES / "fixable_shop_expected"
    for expected in expected_root.rglob("*.py"):
        relative = expected.relative_to(expected_root)
        assert (fixable_shop / relative).read_text(encoding="utf-8") == expected.read_text(encoding="utf-8"), relative

    after = run_cli("check", "--format", "json", cwd=fixable_shop)
    remaining = sorted((v["code"], v["path"]) for v in after.json["violations"])
    # Only what has no fix is left, and nothing new (LG401, LG201 and LG302 have no fix).
    assert remaining == [("LG201", "shop/views.py"), ("LG302", "shop/serializers.py"), ("LG401", "billing/models.py")]
    assert all(v["fix"] == "none" for v in after.json["violations"])

    django_check = subprocess.run([sys.executable, "manage.py", "check", "--fail-level", "WARNING"],
                                  cwd=fixable_shop, capture_output=True, text=True, timeout=300)
    assert django_check.returncode == 0, django_check.stderr
    behaviour = _behaviour(fixable_shop)
    assert behaviour.returncode == 0, behaviour.stdout + behaviour.stderr
    assert before.stdout.splitlines()[-1].split(" in ")[0] == behaviour.stdout.splitlines()[-1].split(" in ")[0]


def test_fixing_twice_changes_nothing_the_second_time(fixable_shop):
    run_cli("check", "--fix", "--unsafe-fixes", cwd=fixable_shop)
    once = _tree_hash(fixable_shop)
    second = run_cli("check", "--fix", "--unsafe-fixes", "--dry-run", cwd=fixable_shop)
    assert second.exit_code == 0 and second.stdout == ""
    run_cli("check", "--fix", "--unsafe-fixes", cwd=fixable_shop)
    assert _tree_hash(fixable_shop) == once


def test_dry_run_prints_a_diff_writes_nothing_and_exits_1(fixable_shop):
    before = _tree_hash(fixable_shop)
    result = run_cli("check", "--fix", "--unsafe-fixes", "--dry-run", cwd=fixable_shop)
    assert result.exit_code == 1
    assert "--- a/shop/views.py\n+++ b/shop/views.py\n" in result.stdout
    assert "+@transaction.atomic\n" in result.stdout
    assert _tree_hash(fixable_shop) == before


def test_fix_without_unsafe_fixes_moves_nothing_and_says_how(fixable_shop):
    before = _tree_hash(fixable_shop)
    result = run_cli("check", "--fix", cwd=fixable_shop)
    assert result.exit_code == 1
    assert "available with --unsafe-fixes" in result.stderr
    assert _tree_hash(fixable_shop) == before


def test_a_file_with_a_syntax_error_is_left_untouched(fixable_shop):
    broken = fixable_shop / "shop" / "broken_views.py"
    broken.write_text("from shop.models import Order\n\ndef f(request):\n    Order.objects.create(\n", encoding="utf-8")
    before = broken.read_bytes()
    result = run_cli("check", "--fix", "--unsafe-fixes", "--format", "json", cwd=fixable_shop)
    assert broken.read_bytes() == before
    assert ("LG900", "shop/broken_views.py", 4) in [(v["code"], v["path"], v["line"]) for v in result.json["violations"]]


def test_json_says_for_every_violation_whether_a_fix_is_available(fixable_shop):
    result = run_cli("check", "--format", "json", cwd=fixable_shop)
    assert {v["fix"] for v in result.json["violations"]} == {"unsafe", "none"}
    assert result.json["summary"]["fixable"] == {"unsafe": 8}
    lg401 = next(v for v in result.json["violations"] if v["code"] == "LG401")
    assert lg401["fix"] == "none" and lg401["fix_note"] == ""


def test_a_write_outside_the_project_root_is_refused(tmp_path):
    root = tmp_path / "project"
    outside = tmp_path / "outside.py"
    outside.write_text("x = 1\n")
    root.mkdir()
    (root / "link.py").symlink_to(outside)
    with pytest.raises(UnsafeWrite, match="outside the project root"):
        check_edit(root, FileEdit("link.py", "x = 1\n", "x = 2\n"))
    with pytest.raises(UnsafeWrite, match="would not parse"):
        check_edit(root, FileEdit("new.py", None, "def (:\n"))


ADD_NOQA_VIEW = """
from django.db import transaction

from shop.models import Order


def pay(request, pk):
    with transaction.atomic():  # layerguard: ignore[LG201]
        Order.objects.filter(pk=pk).update(paid=True)
    Order.objects.create(total=1)  # keep this note
    text = '''
    Order.objects.create(total=2)
    '''
"""


def test_add_noqa_suppresses_every_violation_merging_with_an_existing_comment(scaffold):
    write_tree(scaffold, {"shop/views.py": ADD_NOQA_VIEW})
    result = run_cli("check", "--add-noqa", ".", cwd=scaffold)
    assert result.exit_code == 0, result.stderr
    assert "added 3 suppression comment(s) in 1 file(s)" in result.stderr
    lines = (scaffold / "shop/views.py").read_text(encoding="utf-8").splitlines()
    assert lines[6] == "    with transaction.atomic():  # layerguard: ignore[LG201, LG202]"
    assert lines[7] == "        Order.objects.filter(pk=pk).update(paid=True)  # layerguard: ignore[LG101]"
    assert lines[8] == "    Order.objects.create(total=1)  # keep this note  # layerguard: ignore[LG101]"
    assert lines[10] == "    Order.objects.create(total=2)"  # inside a string: not a violation, not touched
    again = run_cli("check", ".", cwd=scaffold)
    assert again.exit_code == 0, again.stdout
    assert run_cli("check", "--add-noqa", ".", cwd=scaffold).stderr.startswith("layerguard: added 0")


def test_full_format_shows_the_line_a_caret_under_the_span_and_the_fix(scaffold):
    write_tree(scaffold, {"shop/views.py": """
        from shop.models import Order


        def create_order(request):
            Order.objects.create(total=1)
        """})
    result = run_cli("check", "--format", "full", ".", cwd=scaffold)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:6] == [
        "shop/views.py:5:5: LG101 [*unsafe] Order.objects.create() writes to the database in a view; "
        "move it to shop/services.py",
        "  |",
        "5 |     Order.objects.create(total=1)",
        "  |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ LG101",
        "  |",
        "  = fix (unsafe): extract to a service function `order_create` in shop/services.py",
    ]


def test_full_format_says_why_there_is_no_fix(scaffold):
    write_tree(scaffold, {"shop/views.py": """
        from shop.models import Order


        def create_order(request):
            if Order.objects.filter(pk=1).update(total=1):
                return None
        """})
    result = run_cli("check", "--format", "full", ".", cwd=scaffold)
    assert "  = no fix: the write is part of a larger expression or statement" in result.stdout
