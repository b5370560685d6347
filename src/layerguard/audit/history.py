"""`audit --history N [--every K] [--since REF]`: the per-family counts and the score at
past commits of the current branch.

The sampled commits are read from git objects into one temporary directory, oldest
first: the oldest commit's files as `git ls-tree` lists them, then each next commit by
applying `git diff-tree` between the two; every blob comes through one `git cat-file
--batch` process. Nothing is checked out, and the user's working tree, index, stash and
HEAD are never touched. (Not `git archive`: it leaves out `export-ignore` files, which
a checkout, and so the code at that commit, has.)

Every commit is checked with today's settings (so the trend measures the code, not
changes of the config) through the audit's own cache object: what the audit of the
work tree found is reused for every commit whose files are the same, and a file
unchanged between commits is never parsed or given to semgrep twice. Nothing a past
commit adds is written to the project's cache. A commit that changes nothing the
check can see (no `.py` file, `.gitignore`, `pyvenv.cfg`, symlink or submodule) is
the previous point again, without a check. The history counts findings and the score
only, so it does not ask each finding whether a fix applies (the engine's `fixes`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path, PurePosixPath

from layerguard.audit.collect import FAMILIES, family_of, root_relative
from layerguard.audit.git import GitError, git, toplevel
from layerguard.audit.score import adoption_score
from layerguard.cache import Cache
from layerguard.config import Settings
from layerguard.engine import Progress, check
from layerguard.report import Report

# What discovery and reading look at besides a file's bytes: a change to anything else
# (a README, a template, a migration's .json fixture) cannot change a point.
VISIBLE_NAMES = {".gitignore", "pyvenv.cfg"}
SYMLINK, GITLINK = "120000", "160000"


class SharedCache(Cache):
    """The audit's cache, seen by every past commit: its entries read and added to in
    memory, never saved (a past commit's files must not evict today's from the
    project's cache)."""

    def __init__(self, cache: Cache):
        self.__dict__.update(cache.__dict__)
        self._facts = cache.facts  # the same dictionaries: what one commit adds, the next finds

    def save(self, live_digests: set[str]) -> None:
        pass

    # The tree snapshot is the work tree's: a past commit's tree neither uses nor replaces it.
    keeps_snapshot = False


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
                  progress: Progress | None = None, cache: Cache | None = None) -> list[dict]:
    """One point per sampled commit, oldest first: {"commit", "date", "subject",
    "families", "by_code", "total", "score", "files"} (counts of findings, as the audit
    counts). `cache`: the audit's, to reuse what it found."""
    top = toplevel(settings.root)
    if top is None:
        raise GitError(f"--history: {settings.root} is not inside a git repository")
    prefix = settings.root.resolve().relative_to(top.resolve()).as_posix()
    prefix = "" if prefix == "." else prefix
    commits = list(reversed(sampled_commits(settings.root, count, every, since)))
    shared = SharedCache(cache if cache is not None else Cache(settings.root, enabled=use_cache))
    described = _describe(top, commits)
    points: list[dict] = []
    with _ScratchTree(top, prefix) as tree:
        for index, commit in enumerate(commits):
            if progress:
                progress("history", index, len(commits))
            visible_change = tree.move_to(commit)
            if points and not visible_change:
                counts = {key: points[-1][key] for key in ("families", "by_code", "total", "score", "files")}
            else:
                report = check(replace(settings, root=tree.project_root), [tree.project_root], select, ignore,
                               jobs=jobs, keep_project=True, cache=shared, progress=progress, fixes=False)
                counts = point_counts(report, tree.project_root)
            date, subject = described[commit]
            points.append({"commit": commit, "date": date, "subject": subject, **counts})
        if progress:
            progress("history", len(commits), len(commits))
    return points


def point_counts(report: Report, root: Path) -> dict:
    """What a history point keeps of one check: findings of every status per family and
    per code, and the adoption score (the audit's own formula, collect.py)."""
    relative = root_relative(root)
    everything = [replace(v, path=relative(v.path)) for v in
                  (*report.violations, *report.baselined_violations, *report.suppressed_violations)]
    families = Counter(family_of(v.code) for v in everything)
    return {"families": {name: families.get(name, 0) for name in FAMILIES},
            "by_code": dict(sorted(Counter(v.code for v in everything).items())),
            "total": sum(families.get(name, 0) for name in FAMILIES),
            "score": adoption_score(report.project, report.sources, everything).value, "files": report.files}


def _describe(top: Path, commits: list[str]) -> dict[str, tuple[str, str]]:
    """Commit -> (committer date, subject), from one `git log`."""
    if not commits:
        return {}
    log = git(top, "log", "--no-walk=unsorted", "--format=%H%x00%cI%x00%s%x00", *commits)
    fields = log.split("\0")
    described = {}
    for start in range(0, len(fields) - 2, 3):
        described[fields[start].strip()] = (fields[start + 1], fields[start + 2])
    return described


class _ScratchTree:
    """One temporary copy of the project's directory, moved from commit to commit."""

    def __init__(self, top: Path, prefix: str):
        self.top, self.prefix = top, prefix
        self.scratch = Path(tempfile.mkdtemp(prefix="layerguard-history-"))
        self.tree = self.scratch / "tree"
        self.project_root = self.tree / prefix if prefix else self.tree
        self.commit: str | None = None
        self.blobs: subprocess.Popen | None = None

    def __enter__(self) -> "_ScratchTree":
        return self

    def __exit__(self, *exc) -> None:
        if self.blobs is not None:
            self.blobs.stdin.close()
            self.blobs.stdout.close()
            self.blobs.wait()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def move_to(self, commit: str) -> bool:
        """Make the tree the commit's; whether anything the check sees changed."""
        if self.commit is None:
            self.project_root.mkdir(parents=True)
            arguments = ["ls-tree", "-r", "-z", commit]
            for entry in git(self.top, *arguments, *(["--", self.prefix] if self.prefix else [])).split("\0"):
                if entry:
                    description, path = entry.split("\t", 1)
                    mode, _, blob = description.split(" ")
                    self._apply(path, mode, blob, "A")
            self.commit = commit
            return True
        arguments = ["diff-tree", "-r", "-z", "--no-renames", "--raw", self.commit, commit]
        changes = git(self.top, *arguments, *(["--", self.prefix] if self.prefix else [])).split("\0")
        visible = False
        for start in range(0, len(changes) - 1, 2):
            old_mode, new_mode, _, new_blob, status = changes[start].lstrip(":").split(" ")
            path = changes[start + 1]
            visible = visible or self._is_visible(path, old_mode, new_mode)
            self._apply(path, new_mode, new_blob, status)
        self.commit = commit
        return visible

    @staticmethod
    def _is_visible(path: str, old_mode: str, new_mode: str) -> bool:
        name = PurePosixPath(path).name
        return name.endswith(".py") or name in VISIBLE_NAMES or bool({old_mode, new_mode} & {SYMLINK, GITLINK})

    def _apply(self, path: str, mode: str, blob: str, status: str) -> None:
        """One entry of the commit's tree written as a checkout would (status "D": removed)."""
        target = self.tree / path
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():  # a submodule's directory, or a directory a file replaces
            shutil.rmtree(target)
        if status == "D":
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == GITLINK:  # a submodule: its directory, empty (its files are not this repository's)
            target.mkdir()
            return
        content = self._blob(blob)
        if mode == SYMLINK:
            link = content.decode("utf-8", "surrogateescape")
            # As tarfile's "data" filter does: a link that leaves the tree is left out.
            inside = os.path.realpath(self.tree) + os.sep
            if not os.path.isabs(link) and os.path.realpath(target.parent / link).startswith(inside):
                target.symlink_to(link)
            return
        target.write_bytes(content)

    def _blob(self, blob: str) -> bytes:
        if self.blobs is None:
            self.blobs = subprocess.Popen(["git", "cat-file", "--batch"], cwd=self.top, stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.blobs.stdin.write(blob.encode() + b"\n")
        self.blobs.stdin.flush()
        header = self.blobs.stdout.readline().split()
        if len(header) != 3:
            raise GitError(f"git cat-file: cannot read blob {blob}")
        size = int(header[2])
        content = self.blobs.stdout.read(size)
        self.blobs.stdout.read(1)  # the newline after the content
        return content
