"""Run layerguard under every other CPython 3.10-3.14 found here, on the newer-syntax fixture.

    python scripts/check_pythons.py [--venvs DIR]

For each interpreter (pyenv's, or python3.X on PATH) it makes a virtualenv in DIR
(default: the user cache directory; never inside the repository), installs this
checkout into it, runs `layerguard check` on a copy of tests/fixtures/newer_syntax and
prints one row: the Python, the LG101 lines expected (`# expect` markers), found,
missed, unexpected, and LG900 count. The suite tests the lowering's output against each
Python's `ast` (tests/test_newer_syntax.py); this runs the whole tool under each.
Not part of the default suite: it installs packages.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "newer_syntax"


def interpreters() -> dict[str, str]:
    found = {}
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1*/bin/python3")))
    candidates += [path for path in (shutil.which(f"python3.{minor}") for minor in range(10, 15)) if path]
    for candidate in candidates:
        completed = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                   capture_output=True, text=True)
        if completed.returncode == 0:
            found.setdefault(completed.stdout.strip(), candidate)
    return {version: path for version, path in sorted(found.items()) if "3.10" <= version <= "3.14"}


def expected() -> set[tuple[str, int]]:
    lines = set()
    for module in sorted((FIXTURE / "shop" / "views").glob("*.py")):
        for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), 1):
            if line.endswith("# expect"):
                lines.add((f"shop/views/{module.name}", number))
    return lines


def run(version: str, python: str, venvs: Path) -> str:
    venv = venvs / f"py{version}"
    binary = venv / "bin" / "python"
    if not binary.exists():
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(binary), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(binary), "-m", "pip", "install", "--quiet", "-e", str(REPO)], check=True)
    with tempfile.TemporaryDirectory() as scratch:
        project = Path(scratch) / "newer_syntax"
        shutil.copytree(FIXTURE, project)
        completed = subprocess.run([str(binary), "-m", "layerguard", "check", "--no-cache", "--format", "json", "."],
                                   cwd=project, capture_output=True, text=True,
                                   env={**os.environ, "LAYERGUARD_CACHE_DIR": scratch})
    if completed.returncode not in (0, 1):
        return f"| {version} | crashed: {completed.stderr.strip().splitlines()[-1:]} |"
    violations = json.loads(completed.stdout)["violations"]
    found = {(v["path"], v["line"]) for v in violations if v["code"] == "LG101"}
    lg900 = [v for v in violations if v["code"] == "LG900"]
    want = expected()
    return (f"| {version} | {len(want)} | {len(found & want)} | {len(want - found)} | {len(found - want)} "
            f"| {len(lg900)} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from platformdirs import user_cache_dir

    parser.add_argument("--venvs", type=Path, default=Path(user_cache_dir("layerguard-pythons", appauthor=False)))
    arguments = parser.parse_args()
    print("| Python | expected | found | missed | unexpected | LG900 |")
    print("|---|---|---|---|---|---|")
    for version, python in interpreters().items():
        print(run(version, python, arguments.venvs), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
