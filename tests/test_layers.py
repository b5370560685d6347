"""layerguard keeps its own layers (STYLE.md §4): the import-linter contract in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_import_linter_contract_holds():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    completed = subprocess.run([str(lint_imports), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
                               cwd=ROOT / "src",
                               capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
