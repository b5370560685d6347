"""Soak layerguard on real checkouts (issue 10, point 6). Not part of the test suite; it
fetches nothing.

    nice -n 10 python scripts/soak.py DIR [DIR ...]

For each DIR: `check --format json`, `check --format sarif` and `graph`, each run as a
user runs it (a subprocess in DIR), with a cache directory of its own in a temporary
directory (layerguard never writes into the checked tree: docs/robustness.md). Prints
one Markdown row per project: files, lines, seconds and peak memory of the check,
findings per code, the LG900 count, how many of those LG900 files CPython 3.13 or
libcst accept (must be 0: LG900 is only for code no Python reads; a file over one of
layerguard's or semgrep's limits is counted apart, by its message), and crashes (exit
2, a traceback, an "internal error" or a rule that failed on a file; must be 0).
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

LAYERGUARD = [sys.executable, "-m", "layerguard"]
NEWER_PYTHON = next(iter(sorted(glob.glob("/root/.pyenv/versions/3.13*/bin/python"))), None)
LIMIT_WORDS = ("LAYERGUARD_", "semgrep", "took longer", "limit")  # an LG900 for a limit, not a parse
CRASH_WORDS = ("Traceback", "internal error", "layerguard failed on it")


def run(command: list[str], cwd: Path, environment: dict) -> tuple[int, str, str, float, int]:
    """Exit code, stdout, stderr, wall seconds and peak RSS (MiB) of one command."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return (os.waitstatus_to_exitcode(status), out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"), seconds, usage.ru_maxrss // 1024)


def accepted_by_some_python(path: Path) -> str | None:
    """'CPython 3.13' or 'libcst' when one of them reads the file, else None."""
    source = path.read_bytes()
    if NEWER_PYTHON:
        compiled = subprocess.run([NEWER_PYTHON, "-c", "import sys; compile(sys.stdin.buffer.read(), 'f', 'exec')"],
                                  input=source, capture_output=True, timeout=120)
        if compiled.returncode == 0:
            return "CPython 3.13"
    try:
        import libcst

        libcst.parse_module(source)
        return "libcst"
    except Exception:
        return None


def soak(project: Path) -> dict:
    from layerguard.config import Settings
    from layerguard.discover import project_files

    files = project_files(Settings(root=project))
    lines = sum((project / f).read_bytes().count(b"\n") for f in files if (project / f).is_file())
    crashes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="layerguard-soak-") as cache:
        environment = {**os.environ, "LAYERGUARD_CACHE_DIR": cache, "NO_COLOR": "1"}
        code, out, err, seconds, memory = run([*LAYERGUARD, "check", "--format", "json", "--exit-zero", "."],
                                             project, environment)
        report = json.loads(out) if code == 0 else {"violations": [], "summary": {"by_code": {}}}
        for name, command in (("sarif", ["check", "--format", "sarif", "--exit-zero", "."]), ("graph", ["graph", "."])):
            other = run([*LAYERGUARD, *command], project, environment)
            if other[0] != 0 or any(word in other[2] for word in CRASH_WORDS):
                crashes.append(f"{name}: exit {other[0]}: {other[2].strip()[-300:]}")
            if name == "sarif" and other[0] == 0:
                json.loads(other[1])
    if code != 0 or any(word in err for word in CRASH_WORDS):
        crashes.append(f"check: exit {code}: {err.strip()[-300:]}")
    parse_errors, limits, readable = [], [], []
    for violation in report["violations"]:
        if violation["code"] != "LG900":
            continue
        if "layerguard failed on it" in violation["message"]:
            crashes.append(f"{violation['path']}: {violation['message']}")
        elif any(word in violation["message"] for word in LIMIT_WORDS):
            limits.append(violation)
        else:
            parse_errors.append(violation)
            accepted = accepted_by_some_python(project / violation["path"])
            if accepted:
                readable.append(f"{violation['path']} ({accepted})")
    return {"project": project.name, "files": len(files), "lines": lines, "seconds": seconds, "memory": memory,
            "by_code": Counter(report["summary"]["by_code"]), "lg900": len(parse_errors), "limits": len(limits),
            "readable": readable, "crashes": crashes}


def main(directories: list[str]) -> int:
    print(f"Soak of {time.strftime('%Y-%m-%d')}, Python {sys.version.split()[0]}, "
          f"newer Python: {NEWER_PYTHON or 'none'}\n")
    print("| project | files | lines | check s | peak MiB | findings per code | LG900 | of which some Python reads "
          "| LG900 for a limit | crashes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    bad = 0
    details = []
    for directory in directories:
        row = soak(Path(directory).resolve())
        codes = ", ".join(f"{code} {count}" for code, count in sorted(row["by_code"].items()))
        print(f"| {row['project']} | {row['files']:,} | {row['lines']:,} | {row['seconds']:.1f} | {row['memory']} "
              f"| {codes or '-'} | {row['lg900']} | {len(row['readable'])} | {row['limits']} | {len(row['crashes'])} |",
              flush=True)
        bad += len(row["readable"]) + len(row["crashes"])
        details += [f"{row['project']}: {item}" for item in row["readable"] + row["crashes"]]
    for line in details:
        print(f"- {line}")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
