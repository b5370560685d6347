"""The `layerguard` command's entry point: replay a still-valid run record (runrecord.py)
before anything heavy is imported, else hand over to the click CLI.

A warm `check` of an unchanged tree imports only this module, runrecord and cache: no
click, rich, libcst, semgrep launcher or checker (python -X importtime shows it)."""

from __future__ import annotations

import gc
import os
import sys


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        from layerguard import runrecord

        code = runrecord.replay(sys.argv[1:])
        if code is not None:
            sys.exit(code)
        if runrecord.PENDING_KEY is not None:  # eligible: semgrep can start before the checkers load
            from layerguard import headstart

            if runrecord.OUTDATED is not None:
                headstart.start(runrecord.OUTDATED)
            else:
                headstart.start_for_named_files(sys.argv[1:])
    from layerguard import engine
    from layerguard.cli import main as cli

    engine.HOLD_UNTIL_EXIT = []
    # The collector's thresholds the engine uses while checking (engine._rare_collections),
    # for the whole process: restored to the defaults after a run, the next allocation would
    # set off a full collection walking every fact still held (saleor: 0.4 s).
    gc.set_threshold(*engine.RARE_COLLECTION_THRESHOLDS)
    try:
        cli()
    except SystemExit as finished:
        code = finished.code or 0
        if code not in (0, 1):  # an error (or a message as the code): the normal way out
            raise
    else:
        code = 0
    # The run's output is written and every child process waited for: end here, without
    # freeing what the run built object by object (engine.HOLD_UNTIL_EXIT).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
