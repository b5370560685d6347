"""A rich progress bar on standard error, shown only on a terminal (never in CI logs,
pipes or pre-commit output), and only once a run has lasted `delay` seconds: a warm
run that takes 0.2 s shows nothing."""

from __future__ import annotations

import os
import sys
import time

PHASES = {"read": "reading files", "parse": "parsing", "semgrep": "waiting for semgrep", "rules": "running the rules",
          "history": "checking past commits"}


def wanted() -> bool:
    if os.environ.get("CI", "").lower() not in ("", "0", "false") or os.environ.get("TERM") == "dumb":
        return False
    # pre-commit runs hooks on a pseudo-terminal (for colours) and sets PRE_COMMIT=1:
    # its output is a log to read after the fact, where a bar is noise.
    if os.environ.get("PRE_COMMIT"):
        return False
    return sys.stderr.isatty()


class TerminalProgress:
    """Call it as the engine's `progress(phase, done, total)`; use it as a context manager."""

    def __init__(self, delay: float = 0.0, enabled: bool | None = None):
        self.enabled = wanted() if enabled is None else enabled
        self.delay = delay
        self.started = time.monotonic()
        self.bar = None
        self.tasks: dict[str, int] = {}
        self.pending: dict[str, tuple[int, int]] = {}

    def __enter__(self) -> "TerminalProgress":
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            self.pending[phase] = (done, total)
            if time.monotonic() - self.started < self.delay:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                                TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True)
            self.bar.start()
            for name, (d, t) in self.pending.items():
                self._update(name, d, t)
            return
        self._update(phase, done, total)

    def _update(self, phase: str, done: int, total: int) -> None:
        label = PHASES.get(phase, phase)
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(label, total=total or None)
        self.bar.update(self.tasks[phase], completed=done, total=total or None)
