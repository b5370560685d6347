"""Time `layerguard audit` against `check` on real projects. Not part of the test suite.

    python scripts/bench_audit.py PROJECT_DIR [PROJECT_DIR ...] [--history N]

For each project, in one run and one after the other: `check --no-cache` (the
floor the issue names), `audit --no-cache --html` (cold), their ratio and peak
memory; with --history N (default 20, 0 to skip) also `audit --no-cache --history N`
against the cold audit, where the project is a git work tree. Each command gets
an empty cache directory of its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LAYERGUARD = [sys.executable, "-m", "layerguard"]


def timed(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, children included) and peak RSS (MiB)
    of one command. On a shared machine CPU seconds are the steadier measure."""
    with tempfile.TemporaryDirectory(prefix="layerguard-bench-audit-") as cache:
        environment = {**os.environ, "LAYERGUARD_CACHE_DIR": cache}
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed in {cwd}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("projects", nargs="+", type=Path)
    parser.add_argument("--history", type=int, default=20)
    arguments = parser.parse_args()
    for project in arguments.projects:
        with tempfile.TemporaryDirectory() as scratch:
            html = Path(scratch) / "report.html"
            check = timed([*LAYERGUARD, "check", "--no-cache", "--exit-zero", "--format", "json",
                           "--output", os.devnull, "."], project)
            audit = timed([*LAYERGUARD, "audit", "--no-cache", "--html", str(html), "--output", os.devnull, "."],
                          project)
            print(f"## {project}")
            print("                          wall s    CPU s   peak MiB   ratio (wall, CPU)")
            print(f"check --no-cache          {check[0]:7.1f}  {check[1]:7.1f}   {check[2]:6d}")
            print(f"audit --no-cache --html   {audit[0]:7.1f}  {audit[1]:7.1f}   {audit[2]:6d}     "
                  f"{audit[0] / check[0]:.2f}x, {audit[1] / check[1]:.2f}x check"
                  f"   (report {html.stat().st_size / 1e6:.1f} MB)")
            if arguments.history and (project / ".git").exists():
                history = timed([*LAYERGUARD, "audit", "--no-cache", "--history", str(arguments.history),
                                 "--output", os.devnull, "."], project)
                print(f"audit --history {arguments.history:<3}       {history[0]:7.1f}  {history[1]:7.1f}   "
                      f"{history[2]:6d}     {history[0] / audit[0]:.2f}x, {history[1] / audit[1]:.2f}x one cold audit")


if __name__ == "__main__":
    main()
