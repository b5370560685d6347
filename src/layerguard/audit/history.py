"""`audit --history N [--every K] [--since REF]`: the per-family counts and the score at
past commits of the current branch.

Each sampled commit's tree is read from git objects (`git archive`, streamed into
Python's tarfile) into one temporary directory, emptied between commits; nothing is
checked out, and the user's working tree, index, stash and HEAD are never touched.
Every commit is checked with today's settings (so the trend measures the code, not
changes of the config) through one in-memory cache shared by all commits and seeded
with the project's own cache: a file unchanged between commits is read from the
cache, never parsed or given to semgrep twice. Nothing is written to the cache.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import replace
from pathlib import Path

from layerguard.audit.collect import FAMILIES, collect
from layerguard.audit.git import GitError, git, toplevel
from layerguard.cache import Cache
from layerguard.config import Settings
from layerguard.engine import Progress, check


class SharedCache(Cache):
    """The project's cache, read once and kept in memory for every commit: never saved
    (a past commit's files must not evict today's from the project's cache)."""

    def save(self, live_digests: set[str]) -> None:
        pass


def sampled_commits(root: Path, count: int | None, every: int, since: str | None) -> list[str]:
    """Commits of the current branch (first parents), newest first: every `every`th, at
    most `count`, only those after `since` when given; HEAD is always the first."""
    arguments = ["rev-list", "--first-parent", "HEAD"]
    if since:
        try:
            git(root, "rev-parse", "--verify", "--quiet", f"{since}^{{commit}}")
        except GitError:
            raise GitError(f"--since: unknown git ref `{since}`") from None
        arguments = ["rev-list", "--first-parent", f"{since}..HEAD"]
    commits = git(root, *arguments).split()
    sampled = commits[::every]
    return sampled[:count] if count is not None else sampled


def audit_history(settings: Settings, select: list[str], ignore: list[str], count: int | None = None,
                  every: int = 1, since: str | None = None, jobs: int | None = None, use_cache: bool = True,
                  progress: Progress | None = None) -> list[dict]:
    """One point per sampled commit, oldest first: {"commit", "date", "subject",
    "families", "by_code", "total", "score"} (counts of findings, as the audit counts)."""
    top = toplevel(settings.root)
    if top is None:
        raise GitError(f"--history: {settings.root} is not inside a git repository")
    prefix = settings.root.resolve().relative_to(top.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix
    commits = sampled_commits(settings.root, count, every, since)
    cache = SharedCache(settings.root, enabled=use_cache)
    points = []
    scratch = Path(tempfile.mkdtemp(prefix="layerguard-history-"))
    try:
        tree = scratch / "tree"
        for index, commit in enumerate(reversed(commits)):
            if progress:
                progress("history", index, len(commits))
            shutil.rmtree(tree, ignore_errors=True)
            tree.mkdir()
            _extract(top, commit, prefix, tree)
            project_root = tree / prefix if prefix else tree
            project_root.mkdir(parents=True, exist_ok=True)
            report = check(replace(settings, root=project_root), [project_root], select, ignore, jobs=jobs,
                           keep_project=True, cache=cache, progress=progress)
            audit = collect(report, project_root, churn=None)
            families = {name: audit.families[name]["total"] for name in FAMILIES}
            date, subject = git(top, "log", "-1", "--format=%cI%x00%s", commit).rstrip("\n").split("\0", 1)
            points.append({"commit": commit, "date": date, "subject": subject, "families": families,
                           "by_code": audit.by_code, "total": sum(families.values()),
                           "score": audit.score["score"], "files": audit.files})
        if progress:
            progress("history", len(commits), len(commits))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return points


def _extract(top: Path, commit: str, prefix: str, destination: Path) -> None:
    """`git archive` of the commit's tree (the project's directory only), streamed into
    `destination`. Members tarfile's "data" filter refuses (a link out of the tree, a
    device) are left out, as a checkout would not give them to us either."""
    command = ["git", "archive", "--format=tar", commit]
    if prefix:
        command += ["--", prefix]
    process = subprocess.Popen(command, cwd=top, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)
    try:
        with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
            for member in archive:
                try:
                    archive.extract(member, destination, filter="data")
                except (tarfile.FilterError, OSError):
                    continue
    finally:
        process.stdout.close()
        error = process.stderr.read().decode("utf-8", "replace").strip()
        process.stderr.close()
        if process.wait() != 0:
            raise GitError(error.splitlines()[-1] if error else f"git archive {commit} failed")
