"""`audit --history`: counts per commit from git objects, the repository left as it was."""

from __future__ import annotations

import hashlib
import subprocess

from conftest import copy_fixture, run_cli

LEAKY_TASK = """\
from shop.models import Order


def purge():
    Order.objects.filter(total=0).delete()
"""


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                               "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(repo), "PATH": "/usr/bin:/bin"}
                          ).stdout


def three_commits(tmp_path):
    """1: the fixture; 2: a task that writes (one more LG101); 3: the view's write fixed."""
    repo = copy_fixture("audited_shop", tmp_path)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the shop as found")
    (repo / "shop" / "tasks.py").write_text(LEAKY_TASK)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a task that writes")
    views = repo / "shop" / "views.py"
    views.write_text(views.read_text().replace("        order.save()\n", ""))
    git(repo, "commit", "-qam", "fix: the view no longer saves")
    return repo


def state(repo):
    """Everything the audit must not touch: HEAD, index, stash, status, every file's bytes."""
    files = sorted(p for p in repo.rglob("*") if p.is_file() and ".git" not in p.relative_to(repo).parts)
    return (git(repo, "rev-parse", "HEAD"), (repo / ".git" / "index").read_bytes(), git(repo, "stash", "list"),
            git(repo, "status", "--porcelain", "--untracked-files=all"),
            [(str(p), hashlib.sha256(p.read_bytes()).hexdigest()) for p in files])


def test_history_counts_each_commit_and_leaves_the_repository_alone(tmp_path):
    repo = three_commits(tmp_path)
    (repo / "shop" / "notes.py").write_text("# an untracked file in the work tree\n")
    (repo / "shop" / "services.py").write_text((repo / "shop" / "services.py").read_text() + "\n# edited, unstaged\n")
    before = state(repo)
    result = run_cli("audit", ".", "--format", "json", "--history", "3", cwd=repo)
    assert result.exit_code == 0, result.stderr
    history = result.json["audit"]["history"]
    assert [point["subject"] for point in history] == [
        "the shop as found", "a task that writes", "fix: the view no longer saves"]
    # LG1 counts findings of every status: 3 at first, the task adds one, the fix removes one.
    assert [point["families"]["LG1"] for point in history] == [3, 4, 3]
    assert [point["families"]["LG2"] for point in history] == [1, 1, 1]
    assert history[0]["score"] == 56.2
    # writes: 3 in services, outside: 3 -> 4 -> 3
    assert [p["score"] for p in history][1] == round(100 * (3 / 7 + 0.75 + 0.5 + 0.5) / 4, 1)
    assert state(repo) == before


def test_each_point_is_what_an_audit_of_that_commit_finds(tmp_path):
    """The history moves one temporary tree from commit to commit (renames, deletions,
    a symlink, a commit that changes no Python file); each point must equal a cold
    audit of a checkout of that commit."""
    repo = three_commits(tmp_path)
    (repo / "README.md").write_text("# the shop\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "docs only")
    git(repo, "mv", "shop/tasks.py", "billing/tasks.py")
    (repo / "billing" / "tasks.py").write_text(LEAKY_TASK.replace("purge", "purge_billing"))
    (repo / "shop" / "alias.py").symlink_to("services.py")
    git(repo, "rm", "-q", "billing/views.py")
    (repo / ".gitattributes").write_text("billing/tasks.py export-ignore\n")  # `git archive` would leave it out
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tasks move to billing, its views go")
    history = run_cli("audit", ".", "--format", "json", "--history", "5", cwd=repo).json["audit"]["history"]
    # HEAD alone: its tree read afresh, not moved to from the commit before.
    history.append(run_cli("audit", ".", "--format", "json", "--history", "1", cwd=repo).json["audit"]["history"][0])
    assert [p["subject"] for p in history][2:5] == ["fix: the view no longer saves", "docs only",
                                                    "tasks move to billing, its views go"]
    commits = git(repo, "rev-list", "--first-parent", "HEAD").split()[::-1]
    commits.append(commits[-1])
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", str(repo), str(checkout))
    for commit, point in zip(commits, history):
        git(checkout, "checkout", "-q", commit)
        audit = run_cli("audit", ".", "--no-cache", "--format", "json", cwd=checkout).json["audit"]
        assert point["commit"] == commit
        assert point["by_code"] == audit["by_code"], point["subject"]
        assert point["families"] == {name: counts["total"] for name, counts in audit["families"].items()}
        assert (point["score"], point["files"]) == (audit["score"]["score"], audit["files"]), point["subject"]
    assert history[3]["by_code"] == history[2]["by_code"]  # docs only: nothing to count changed


def test_every_kth_commit_and_since_a_ref(tmp_path):
    repo = three_commits(tmp_path)
    first = git(repo, "rev-list", "--max-parents=0", "HEAD").strip()
    every = run_cli("audit", ".", "--format", "json", "--history", "2", "--every", "2", cwd=repo).json
    assert [p["subject"] for p in every["audit"]["history"]] == ["the shop as found", "fix: the view no longer saves"]
    since = run_cli("audit", ".", "--format", "json", "--since", first, cwd=repo).json
    assert [p["subject"] for p in since["audit"]["history"]] == ["a task that writes", "fix: the view no longer saves"]


def test_history_outside_git_is_a_one_line_error(tmp_path):
    result = run_cli("audit", ".", "--history", "2", cwd=copy_fixture("audited_shop", tmp_path))
    assert result.exit_code == 2 and "not inside a git repository" in result.stderr


def test_history_table_in_the_terminal_summary(tmp_path):
    result = run_cli("audit", ".", "--history", "3", cwd=three_commits(tmp_path))
    assert "Trend over history" in result.stdout


def test_the_history_leaves_the_work_trees_snapshot_alone(tmp_path):
    """Each past commit is checked in a temporary tree through the audit's cache, which
    saves nothing: the tree snapshot the next `check` starts from is still the work tree's."""
    from layerguard.snapshot import load

    repo = three_commits(tmp_path)
    env = {"LAYERGUARD_CACHE_DIR": str(tmp_path / "cache")}
    assert run_cli("audit", ".", "--format", "json", "--history", "3", cwd=repo, env=env).exit_code == 0
    [snapshot_file] = (tmp_path / "cache").glob("*-tree.pickle")
    files = load(snapshot_file).files
    assert files and all(path.startswith(str(repo.resolve())) for path in files)
