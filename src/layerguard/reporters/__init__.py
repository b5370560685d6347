"""Output formats, found by name. A reporter turns a Report into text; it never parses code."""

from __future__ import annotations

from typing import Callable

from layerguard.report import Report
from layerguard.reporters import full, github, json_format, junit, sarif, text

Reporter = Callable[[Report, bool], str]

REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "json": json_format.render,
    "sarif": sarif.render,
    "github": github.render,
    "junit": junit.render,
    "full": full.render,
}
