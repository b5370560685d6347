"""Which Python files make up the project, and which of them the user asked to check."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import pathspec

from layerguard.config import Settings


class PathMatcher:
    """gitignore-style globs against root-relative posix paths (`**/` matches zero or more dirs)."""

    def __init__(self, globs: Iterable[str]):
        self._spec = pathspec.GitIgnoreSpec.from_lines(list(globs))

    def matches(self, relative_path: str) -> bool:
        return self._spec.match_file(relative_path)


def project_files(settings: Settings) -> list[str]:
    """Every `.py` file under the root that is included and not excluded, as sorted posix paths.

    The whole project feeds the project model (apps, models, base classes), even when
    only a few files are checked, so that a pre-commit run on one file still knows
    which class is a model and which is a view.
    """
    root = settings.root
    include = PathMatcher(settings.include)
    exclude = PathMatcher([*settings.exclude, *settings.extend_exclude])
    found: list[str] = []
    # Each directory carries the gitignore specs that apply to it, from the root down.
    stack: list[tuple[Path, str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [(root, "", [])]
    while stack:
        directory, relative_dir, ignores = stack.pop()
        gitignore = directory / ".gitignore"
        if gitignore.is_file():
            try:
                lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
                ignores = [*ignores, (relative_dir, pathspec.GitIgnoreSpec.from_lines(lines))]
            except OSError:
                pass
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError:
            continue
        for entry in entries:
            relative = f"{relative_dir}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                if exclude.matches(relative + "/") or _ignored(relative + "/", ignores):
                    continue
                if (Path(entry.path) / "pyvenv.cfg").exists():  # a virtualenv by another name
                    continue
                stack.append((Path(entry.path), relative + "/", ignores))
            elif entry.name.endswith(".py") and entry.is_file():
                if include.matches(relative) and not exclude.matches(relative) and not _ignored(relative, ignores):
                    found.append(relative)
    return sorted(found)


def _ignored(relative: str, ignores: list[tuple[str, pathspec.GitIgnoreSpec]]) -> bool:
    for base, spec in ignores:
        if relative.startswith(base) and spec.match_file(relative[len(base):]):
            return True
    return False


def select_targets(all_files: list[str], settings: Settings, paths: list[Path]) -> list[str]:
    """The project files the user named (files, or directories meaning everything below them).

    Excludes apply to explicitly named files too (ruff's `force-exclude`), because
    pre-commit passes every staged file by name.
    """
    root = settings.root.resolve()
    wanted_dirs: list[str] = []
    wanted_files: set[str] = set()
    for path in paths:
        resolved = path.resolve()
        try:
            relative = resolved.relative_to(root).as_posix()
        except ValueError:
            continue
        if resolved.is_dir():
            wanted_dirs.append("" if relative == "." else relative + "/")
        else:
            wanted_files.add(relative)
    return [
        file
        for file in all_files
        if file in wanted_files or any(file.startswith(directory) for directory in wanted_dirs)
    ]
