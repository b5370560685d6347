"""No side effects, proved (issue 10, point 5): a check writes nothing into the tree,
imports none of its modules, opens no network connection (semgrep included), and
works on a read-only tree with a read-only cache directory."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import copy_fixture, run_cli

# The console script, as users run it: `python -m layerguard` would put the checked
# tree's directory first on sys.path, which the real command never does.
LAYERGUARD = Path(sys.executable).parent / "layerguard"


def _snapshot(root: Path) -> dict[str, str]:
    """Every path under root with its content hash (directories and links included)."""
    found = {}
    for directory, directories, files in os.walk(root):
        for name in directories + files:
            path = Path(directory) / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[relative] = "link:" + os.readlink(path)
            elif path.is_dir():
                found[relative] = "directory"
            else:
                found[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _run(project: Path, *args: str, env: dict | None = None, prefix: tuple[str, ...] = ()):
    return subprocess.run([*prefix, str(LAYERGUARD), *args], cwd=project, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "NO_COLOR": "1", **(env or {})})


def test_a_full_check_writes_nothing_into_the_tree(tmp_path):
    project = copy_fixture("tangled_monolith", tmp_path)
    before = _snapshot(project)
    cache = {"LAYERGUARD_CACHE_DIR": str(tmp_path / "cache")}
    for args in (["check", "."], ["check", "."], ["check", "--format", "sarif", "."], ["graph", "."]):
        completed = _run(project, *args, env=cache)
        assert completed.returncode in (0, 1), completed.stderr
    assert _snapshot(project) == before
    assert any((tmp_path / "cache").iterdir())  # the cache went where it was told


def test_no_module_of_the_checked_tree_is_imported(tmp_path):
    project = copy_fixture("import_trap", tmp_path)
    completed = _run(project, "check", "--format", "json", ".", env={"LAYERGUARD_CACHE_DIR": str(tmp_path / "c")})
    assert completed.returncode == 1, completed.stderr
    assert '"shop/views.py"' in completed.stdout  # the write was found by reading the module
    assert sorted(p.name for p in project.rglob("IMPORTED-*")) == []
    assert not list(project.rglob("__pycache__"))


def _network_prefix() -> tuple[str, ...]:
    """A new network namespace: only a loopback that is down, so any connection fails."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed: no network namespace to run in")
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.decode().strip()}")
    return ("unshare", "-rn")


def test_a_check_opens_no_network_connection_semgrep_included(tmp_path):
    """In a network namespace, under strace when it is there: a check (semgrep runs
    for real, no cache) gives its normal report and no process tries an internet socket."""
    project = copy_fixture("tangled_monolith", tmp_path)
    expected = run_cli("check", "--no-cache", "--format", "json", ".", cwd=project)
    prefix = _network_prefix()
    log = tmp_path / "network.log"
    if shutil.which("strace"):
        prefix += ("strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(log))
    completed = _run(project, "check", "--no-cache", "--format", "json", ".", prefix=prefix)
    assert completed.returncode == expected.exit_code == 1, completed.stderr
    assert completed.stdout == expected.stdout
    if log.exists():
        attempts = [line for line in log.read_text().splitlines() if re.search(r"AF_INET6?\b", line)]
        assert attempts == []


def _without_root_privileges() -> tuple[str, ...]:
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: root writes anywhere whatever the mode")
    caps = "-dac_override,-dac_read_search,-fowner"
    return ("setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}")


def _read_only(root: Path) -> None:
    for directory, _, files in os.walk(root):
        for name in files:
            os.chmod(Path(directory) / name, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        os.chmod(directory, 0o555)


def _writable(root: Path) -> None:
    for directory, _, files in os.walk(root):
        os.chmod(directory, 0o755)
        for name in files:
            os.chmod(Path(directory) / name, 0o644)


def test_a_read_only_tree_with_a_read_only_cache_is_checked_and_the_cache_left_alone(tmp_path):
    project = copy_fixture("tangled_monolith", tmp_path)
    expected = run_cli("check", "--no-cache", "--format", "json", ".", cwd=project)
    cache = tmp_path / "cache"
    cache.mkdir()
    _read_only(project)
    os.chmod(cache, 0o555)
    try:
        before = _snapshot(project)
        completed = _run(project, "check", "--format", "json", ".", env={"LAYERGUARD_CACHE_DIR": str(cache)},
                         prefix=_without_root_privileges())
        assert _snapshot(project) == before
    finally:
        _writable(project)
        os.chmod(cache, 0o755)
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout == expected.stdout
    assert list(cache.iterdir()) == []
