"""`--diff REF`: the Python files changed since the merge-base of REF and HEAD.

Committed, staged, unstaged and untracked (not ignored) changes all count, so a CI job
on a pull request and a developer before pushing get the same answer. Deleted files
are not checked.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


class DiffError(Exception):
    """Not a git repository, an unknown ref, or git missing: the message says which."""


def _git(root: Path, *arguments: str) -> str:
    try:
        completed = subprocess.run(["git", *arguments], cwd=root, capture_output=True, text=True,
                                   stdin=subprocess.DEVNULL, timeout=120)
    except FileNotFoundError:
        raise DiffError("--diff needs git, which is not installed") from None
    except subprocess.TimeoutExpired:
        raise DiffError(f"git {' '.join(arguments)} did not finish within 120 s") from None
    if completed.returncode != 0:
        raise DiffError(completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else
                        f"git {' '.join(arguments)} failed")
    return completed.stdout


def changed_python_files(root: Path, ref: str) -> list[Path]:
    try:
        toplevel = Path(_git(root, "rev-parse", "--show-toplevel").strip())
    except DiffError:
        raise DiffError(f"--diff: {root} is not inside a git repository") from None
    try:
        base = _git(root, "merge-base", ref, "HEAD").strip()
    except DiffError:
        raise DiffError(f"--diff: unknown git ref `{ref}` (fetch it first, e.g. `git fetch origin {ref}`)") from None
    names = _git(toplevel, "diff", "--name-only", "--diff-filter=ACMR", "-z", base).split("\0")
    names += _git(toplevel, "ls-files", "--others", "--exclude-standard", "-z").split("\0")
    return sorted({toplevel / name for name in names if name.endswith(".py") and (toplevel / name).is_file()})
