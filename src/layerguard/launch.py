"""The `layerguard` command's entry point: replay a still-valid run record (runrecord.py)
before anything heavy is imported, else hand over to the click CLI.

A warm `check` of an unchanged tree imports only this module, runrecord and cache: no
click, rich, libcst, semgrep launcher or checker (python -X importtime shows it)."""

from __future__ import annotations

import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        from layerguard import runrecord

        code = runrecord.replay(sys.argv[1:])
        if code is not None:
            sys.exit(code)
    from layerguard.cli import main as cli

    cli()
