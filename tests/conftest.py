"""Helpers shared by the tests: build a small Django tree, run the real CLI on it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

# The tests' CLI runs cache into a directory of their own, never the user's cache.
os.environ.setdefault("LAYERGUARD_CACHE_DIR", tempfile.mkdtemp(prefix="layerguard-test-cache-"))

FIXTURES = Path(__file__).parent / "fixtures"
SCAFFOLD = FIXTURES / "example_scaffold"


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> dict:
        return json.loads(self.stdout)

    def found(self, code: str | None = None) -> list[tuple[str, str, int]]:
        """(code, path, line) of every violation, optionally of one code."""
        return [
            (v["code"], v["path"], v["line"])
            for v in self.json["violations"]
            if code is None or v["code"] == code
        ]


def run_cli(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
            prefix: tuple[str, ...] = ()) -> CliResult:
    """The real `layerguard` command in a subprocess, as a user runs it (`prefix`: a
    command that runs it, such as `unshare -rn`; `env`: variables added)."""
    environment = {**os.environ, "NO_COLOR": "1", **(env or {})}
    completed = subprocess.run(
        [*prefix, sys.executable, "-m", "layerguard", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, env=environment, timeout=300,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, content in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def copy_fixture(name: str, destination: Path) -> Path:
    """A fixture tree copied out of the repo, so tests never write into fixtures/."""
    target = destination / name
    shutil.copytree(FIXTURES / name, target)
    return target


@pytest.fixture
def scaffold(tmp_path: Path) -> Path:
    """The default one-app project (shop: Customer, Order, Item, Tag) the rule examples use."""
    return copy_fixture("example_scaffold", tmp_path)

# Fixture projects carry their own tests (fixable_shop's behaviour test runs in a copy,
# under its own settings): never collected by this suite.
collect_ignore_glob = ["fixtures/*"]
