"""Which semgrep binary layerguard starts, in a module of its own: the run record
(runrecord.py) stamps the binary's identity on the warm path, before anything heavier
than the standard library is imported."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path


class SemgrepError(Exception):
    """semgrep is missing, crashed, timed out or printed something we cannot read."""


def find_semgrep() -> list[str]:
    """The command that starts the OCaml CLI: semgrep-core as `osemgrep`, else the wrapper."""
    override = os.environ.get("LAYERGUARD_SEMGREP")
    if override:
        return [override, "scan", "--experimental"]
    spec = importlib.util.find_spec("semgrep")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            core = Path(location) / "bin" / "semgrep-core"
            if core.is_file() and os.access(core, os.X_OK):
                return [str(core), "scan", "--experimental"]
    for candidate in (Path(sys.executable).parent / "semgrep", shutil.which("semgrep")):
        if candidate and Path(candidate).is_file():
            return [str(candidate), "scan", "--experimental"]
    raise SemgrepError("semgrep is not installed; install layerguard with its dependencies (pip install layerguard)")
