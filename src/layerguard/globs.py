"""The glob matcher every setting that names paths uses (exempt, service, view modules...)."""

from __future__ import annotations

from typing import Iterable

import pathspec


class PathMatcher:
    """gitignore-style globs against root-relative posix paths (`**/` matches zero or more dirs)."""

    def __init__(self, globs: Iterable[str]):
        self._spec = pathspec.GitIgnoreSpec.from_lines(list(globs))

    def matches(self, relative_path: str) -> bool:
        return self._spec.match_file(relative_path)
