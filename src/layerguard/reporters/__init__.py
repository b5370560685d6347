"""Output formats, found by name. A reporter turns a Report into text; it never parses code."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Callable, Iterator

from layerguard.report import Report

Reporter = Callable[[Report, bool], str]

# Each format's module, imported only when that format is asked for: the text formats
# bring rich, which a JSON or SARIF run in CI need not load.
_MODULES = {"text": "text", "json": "json_format", "sarif": "sarif", "github": "github", "junit": "junit",
            "full": "full"}


class _Reporters(Mapping):
    def __getitem__(self, name: str) -> Reporter:
        return importlib.import_module(f"layerguard.reporters.{_MODULES[name]}").render

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


REPORTERS: Mapping[str, Reporter] = _Reporters()
