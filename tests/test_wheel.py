"""The built wheel carries the semgrep rules from the repository's top-level rules/ and
the installed tool finds them: tested from a wheel installed in a fresh virtualenv,
not only from the editable install the rest of the suite runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
EXAMPLE = REPOSITORY / "example"
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                    ".pytest_cache", ".layerguard-cache", ".import_linter_cache")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from a copy of the checkout (the checkout itself stays clean)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(REPOSITORY, source, ignore=NOT_SOURCE)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(work / "dist"),
                            str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel_file,) = (work / "dist").glob("layerguard-*.whl")
    return wheel_file


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory) -> Path:
    """A new virtualenv with only the wheel installed in it. Its dependencies (semgrep is
    large) are borrowed from the test environment through a .pth line, which puts that
    site-packages at the end of sys.path without running its editable-install hook, so
    `layerguard` can only come from the wheel."""
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                                "--quiet", "--no-deps", str(wheel)], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    site_packages = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    (site_packages / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def run_installed(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(venv / "bin" / "layerguard"), *args], cwd=cwd, capture_output=True, text=True,
                          env={**environment, "NO_COLOR": "1"}, timeout=300)


def test_the_wheel_ships_every_rule_and_its_target(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for rule in (REPOSITORY / "rules").iterdir():
        assert f"layerguard/rules/{rule.name}" in names, f"{rule.name} is not in the wheel"


def test_the_wheel_ships_every_module_of_the_package(wheel):
    """pyproject.toml lists the packages by hand (rules/ lives outside src/): a package
    added under src/layerguard/ and not listed there would be missing from the wheel."""
    names = set(zipfile.ZipFile(wheel).namelist())
    package = REPOSITORY / "src"
    missing = [str(module.relative_to(package)) for module in package.rglob("*.py")
               if "egg-info" not in str(module) and str(module.relative_to(package)) not in names]
    assert not missing, f"add their packages to [tool.setuptools] packages: {missing}"


def test_the_installed_tool_runs_the_semgrep_rules(fresh_venv, tmp_path):
    project = tmp_path / "example"
    shutil.copytree(EXAMPLE, project)
    where = subprocess.run([str(fresh_venv / "bin" / "python"), "-c",
                            "import layerguard.semgrep as s; print(s.__file__); print(s.RULES_DIR)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(path).is_relative_to(fresh_venv) for path in where), where
    result = run_installed(fresh_venv, "check", "--select", "LG101,LG202", "--format", "json", "--no-cache",
                           cwd=project)
    assert result.returncode == 1, result.stderr
    found = {(v["code"], v["path"]) for v in json.loads(result.stdout)["violations"]}
    # Both found through semgrep: the raw SQL write and the `with transaction.atomic()`.
    assert ("LG101", "billing/views.py") in found and ("LG202", "shop/views.py") in found


def test_the_installed_tool_exports_the_standalone_rules(fresh_venv, tmp_path):
    result = run_installed(fresh_venv, "export-semgrep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "layerguard-LG101-orm-write-outside-service-raw-sql" in result.stdout
