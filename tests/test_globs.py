"""PathMatcher (globs.py) answers exactly as pathspec's GitIgnoreSpec does, for the
default globs of every setting and for generated ones, with and without `!globs`."""

from __future__ import annotations

import pathspec
from hypothesis import given, settings, strategies as st

from layerguard import config
from layerguard.globs import PathMatcher

SEGMENTS = ["shop", "tests", "test", "migrations", "api", "services", "views", "a", "b", "settings", "x.y",
            "__init__.py", "views.py", "tests.py", "test_orders.py", "0001_initial.py", "conftest.py", "models.py"]
GLOBS = ["**/tests/**", "**/migrations/**", "*.py", "shop/*.py", "**/services.py", "**/services/**", "/views.py",
         "**/test_*.py", "tests/", "a/**/b.py", "**/*_initial.py", "[ab]/*.py", "x?y/**", "settings/", "!shop/tests/**",
         "!**/conftest.py", "# a comment", ""]
PATHS = st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=5).map("/".join)


def _agree(globs: list[str], path: str) -> None:
    assert PathMatcher(globs).matches(path) == pathspec.GitIgnoreSpec.from_lines(globs).match_file(path), (globs, path)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(GLOBS), max_size=6), PATHS)
def test_generated_globs_and_paths(globs, path):
    _agree(globs, path)


@settings(max_examples=200, deadline=None)
@given(PATHS)
def test_every_settings_default_globs(path):
    defaults = [value for name, value in vars(config).items() if name.startswith("DEFAULT_") and isinstance(value, list)
                and all(isinstance(glob, str) for glob in value)]
    assert config.DEFAULT_EXEMPT_MODULES in defaults
    for globs in defaults:
        _agree(globs, path)
