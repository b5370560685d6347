"""The few git questions the audit asks: churn per file over a window, commits to sample.

Read-only: `git log` and `git rev-list` only; nothing here touches the working tree,
the index or the stash.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path


class GitError(Exception):
    """git is missing, the directory is not a repository, or a ref is unknown."""


def git(root: Path, *arguments: str, binary: bool = False):
    try:
        completed = subprocess.run(["git", *arguments], cwd=root, capture_output=True, stdin=subprocess.DEVNULL,
                                   timeout=600)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if completed.returncode != 0:
        message = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {' '.join(arguments)} failed")
    return completed.stdout if binary else completed.stdout.decode("utf-8", "replace")


def toplevel(root: Path) -> Path | None:
    """The repository's top directory, or None when `root` is not in a git repository."""
    try:
        return Path(git(root, "rev-parse", "--show-toplevel").strip())
    except GitError:
        return None


def churn(root: Path, days: int) -> dict[str, int] | None:
    """Root-relative path -> number of commits that changed it in the last `days` days
    (`git log --numstat`, renames followed to the new name); None outside git."""
    top = toplevel(root)
    if top is None:
        return None
    try:
        prefix = Path(root).resolve().relative_to(top.resolve()).as_posix()
    except ValueError:
        return None
    prefix = "" if prefix == "." else prefix + "/"
    try:
        log = git(top, "log", f"--since={days} days ago", "--numstat", "--format=%x00", "-M", "--", prefix or ".")
    except GitError:
        return None
    changes: Counter[str] = Counter()
    for line in log.splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        path = parts[2]
        if " => " in path:  # a rename: "a/{old => new}/b.py" or "old => new"
            path = _renamed_to(path)
        if path.startswith(prefix):
            changes[path[len(prefix):]] += 1
    return dict(changes)


def _renamed_to(path: str) -> str:
    if "{" in path and "}" in path:
        head, rest = path.split("{", 1)
        middle, tail = rest.split("}", 1)
        new = middle.split(" => ", 1)[1]
        return (head + new + tail).replace("//", "/")
    return path.split(" => ", 1)[1]
