"""The glob matcher every setting that names paths uses (exempt, service, view modules...)."""

from __future__ import annotations

import re
from typing import Iterable

import pathspec
from pathspec.util import normalize_file


class PathMatcher:
    """gitignore-style globs against root-relative posix paths (`**/` matches zero or more dirs).

    pathspec turns each glob into a regular expression and tries them one by one, the
    last match deciding (a `!glob` re-includes). Without a `!glob`, a path matches when
    any of them does: one alternation of them all answers in one search (the exempt
    globs over every file of saleor: 0.03 s, now a tenth of it)."""

    def __init__(self, globs: Iterable[str]):
        self._spec = pathspec.GitIgnoreSpec.from_lines(list(globs))
        patterns = [p for p in self._spec.patterns if p.include is not None]
        self._any: re.Pattern | None = None  # the alternation, where it answers as pathspec would
        self._empty = not patterns
        if patterns and all(p.include and isinstance(getattr(p, "regex", None), re.Pattern) for p in patterns):
            # Named groups (pathspec marks a directory match `(?P<ps_d>/)`) may not repeat.
            alternatives = [re.sub(r"\(\?P<\w+>", "(?:", p.regex.pattern) for p in patterns]
            self._any = re.compile("|".join(f"(?:{a})" for a in alternatives))

    def matches(self, relative_path: str) -> bool:
        if self._empty:
            return False
        if self._any is not None:
            return self._any.match(normalize_file(relative_path)) is not None
        return self._spec.match_file(relative_path)
