"""`--diff REF`: only changed files are checked, with the whole project's model."""

from __future__ import annotations

import subprocess

from conftest import run_cli, write_tree

VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create(total=1)\n"


def _git(cwd, *arguments):
    subprocess.run(["git", *arguments], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@example.com", "PATH": "/usr/bin:/bin:/usr/local/bin",
                        "HOME": str(cwd)})


def _repository(scaffold):
    write_tree(scaffold, {"shop/views.py": VIEW, "shop/tasks.py": VIEW})
    _git(scaffold, "init", "-q", "-b", "main")
    _git(scaffold, "add", "-A")
    _git(scaffold, "commit", "-q", "-m", "legacy")
    return scaffold


def test_only_changed_and_new_files_are_checked(scaffold):
    project = _repository(scaffold)
    write_tree(project, {"shop/views.py": VIEW + "\n# touched\n", "shop/signals.py": VIEW})
    result = run_cli("check", "--diff", "main", "--format", "json", ".", cwd=project)
    assert sorted(result.found()) == [("LG101", "shop/signals.py", 5), ("LG101", "shop/views.py", 5)]
    assert result.json["summary"]["files"] == 2


def test_an_unchanged_tree_checks_nothing_and_passes(scaffold):
    project = _repository(scaffold)
    result = run_cli("check", "--diff", "main", ".", cwd=project)
    assert result.exit_code == 0


def test_changed_files_still_know_models_from_unchanged_files(scaffold):
    project = _repository(scaffold)
    write_tree(project, {"shop/web.py": "from shop.models import Item\n\n\ndef add(request):\n"
                                        "    Item.objects.bulk_create([])\n"})
    result = run_cli("check", "--diff", "main", "--format", "json", ".", cwd=project)
    assert result.found() == [("LG101", "shop/web.py", 5)]


def test_outside_a_git_repository_is_a_clear_error(scaffold):
    result = run_cli("check", "--diff", "main", ".", cwd=scaffold)
    assert result.exit_code == 2 and "not inside a git repository" in result.stderr


def test_an_unknown_ref_is_a_clear_error(scaffold):
    project = _repository(scaffold)
    result = run_cli("check", "--diff", "no-such-branch", ".", cwd=project)
    assert result.exit_code == 2 and "unknown git ref `no-such-branch`" in result.stderr


def test_committed_changes_of_a_feature_branch_against_its_merge_base(scaffold):
    """What the Action does on a pull request: the branch's own commits are checked
    (not only uncommitted work), and what main changed since the branch point is not."""
    project = scaffold
    write_tree(project, {"shop/views.py": VIEW, "shop/signals.py": "", "shop/web.py": ""})
    _git(project, "init", "-q", "-b", "main")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "legacy: shop/views.py writes in a view")
    _git(project, "checkout", "-q", "-b", "feature")
    write_tree(project, {"shop/signals.py": VIEW})
    _git(project, "commit", "-q", "-am", "feature: a write in signals.py")
    write_tree(project, {"shop/web.py": VIEW})
    _git(project, "commit", "-q", "-am", "feature: another in web.py")
    _git(project, "checkout", "-q", "main")
    write_tree(project, {"shop/views.py": VIEW + "\n# main moved on\n"})
    _git(project, "commit", "-q", "-am", "main: touches views.py after the branch point")
    _git(project, "checkout", "-q", "feature")
    result = run_cli("check", "--diff", "main", "--format", "json", ".", cwd=project)
    assert sorted(result.found()) == [("LG101", "shop/signals.py", 5), ("LG101", "shop/web.py", 5)]
    assert result.json["summary"]["files"] == 2 and result.exit_code == 1
