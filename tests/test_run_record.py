"""The run record (runrecord.py) and the tree snapshot (snapshot.py) are never wrong:
after each kind of change a warm run prints byte for byte what `--no-cache` prints,
whether the run record replays it or the normal path runs with the snapshot (the
record gone, as for a pre-commit run naming other files); and an unchanged tree is
replayed without importing the CLI (so without reading a file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_tree

from layerguard.hashes import content_hash as digest
from layerguard.runrecord import Inputs, eligible, stat_identity

VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create()\n"
CLEAN = "from shop.models import Order\n\n\ndef create(request):\n    return Order.objects.all()\n"
CONFIG = '[tool.layerguard]\nselect = ["LG"]\n'


def _run(project: Path, cache: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LAYERGUARD_CACHE_DIR": str(cache), "NO_COLOR": "1", **(env or {})}
    return subprocess.run([sys.executable, "-X", "importtime", "-m", "layerguard", "check", "--format", "json",
                           *extra, "."], cwd=project, capture_output=True, text=True, env=environment)


def _replayed(result: subprocess.CompletedProcess) -> bool:
    return "layerguard.cli" not in result.stderr


# Set by the `warm` fixture: the warm run of _assert_fresh goes the normal path, with
# only the tree snapshot to spare it discovery and reading.
_WITHOUT_RECORD = False


def _assert_fresh(project: Path, cache: Path, *extra: str, env: dict | None = None) -> str:
    """A warm run equals --no-cache byte for byte (stdout and exit status); returns stdout."""
    if _WITHOUT_RECORD:
        for record in cache.glob("run-*.pickle"):
            record.unlink()
        assert list(cache.glob("*-tree.pickle"))
    warm = _run(project, cache, *extra, env=env)
    cold = _run(project, cache.parent / "unused-cache", "--no-cache", *extra, env=env)
    assert (warm.stdout, warm.returncode) == (cold.stdout, cold.returncode)
    return warm.stdout


@pytest.fixture(params=["run record", "tree snapshot"])
def warm(request, monkeypatch, scaffold, tmp_path):
    """A project whose record is written and replayed once."""
    monkeypatch.setattr(sys.modules[__name__], "_WITHOUT_RECORD", request.param == "tree snapshot")
    write_tree(scaffold, {"shop/views.py": VIEW, "pyproject.toml": CONFIG})
    cache = tmp_path / "cache"
    first = _run(scaffold, cache)
    second = _run(scaffold, cache)
    assert not _replayed(first) and _replayed(second)
    assert "layerguard.headstart" not in second.stderr  # a replay reads no semgrep plan (headstart.py)
    assert second.stdout == first.stdout and '"LG101"' in first.stdout and second.returncode == 1
    return scaffold, cache


def test_a_file_edited_within_the_same_mtime_tick(warm):
    project, cache = warm
    path = project / "shop/views.py"
    before = os.stat(path)
    same_size = VIEW.replace("objects.create()", "objects.filter()")
    path.write_text(same_size)
    assert len(same_size) == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime, as one tick would leave it
    assert '"LG101"' not in _assert_fresh(project, cache)


def test_racily_clean_files_are_compared_by_content(tmp_path):
    """git's rule: a file whose mtime is not older than the record may have changed in the
    same tick after it was read; its identity alone is not trusted."""
    path = tmp_path / "a.py"
    path.write_text("x = 1\n")
    inputs = Inputs()
    inputs.files[str(path)] = (stat_identity(os.stat(path)), digest(b"x = 2\n"))  # read before a same-tick write
    mtime = os.stat(path).st_mtime_ns
    assert not inputs.unchanged(written_ns=mtime)  # racy: the bytes differ
    assert inputs.unchanged(written_ns=mtime + 1_000_000_000)  # record a second later: the stat is trusted
    inputs.files[str(path)] = (stat_identity(os.stat(path)), digest(b"x = 1\n"))
    assert inputs.unchanged(written_ns=mtime)  # racy but the same bytes


def test_a_file_replaced_by_git_checkout(warm):
    project, cache = warm
    git = ["git", "-c", "user.email=t@t", "-c", "user.name=t", "-C", str(project)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    write_tree(project, {"shop/views.py": CLEAN})
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    assert '"LG101"' not in _assert_fresh(project, cache)
    subprocess.run([*git, "checkout", "-q", "HEAD~1", "--", "shop/views.py"], check=True)
    assert '"LG101"' in _assert_fresh(project, cache)


def test_a_file_deleted(warm):
    project, cache = warm
    (project / "shop/views.py").unlink()
    assert '"LG101"' not in _assert_fresh(project, cache)


def test_a_new_file_and_a_new_directory(warm):
    project, cache = warm
    write_tree(project, {"shop/api/__init__.py": "", "shop/api/more.py": VIEW.replace("create(", "other(")})
    assert _assert_fresh(project, cache).count('"LG101"') == 2


def test_a_config_edit(warm):
    project, cache = warm
    write_tree(project, {"pyproject.toml": CONFIG + 'ignore = ["LG101"]\n'})
    assert '"LG101"' not in _assert_fresh(project, cache)


def test_a_config_file_created_nearer(warm):
    project, cache = warm
    write_tree(project, {"layerguard.toml": 'ignore = ["LG101"]\n'})
    assert '"LG101"' not in _assert_fresh(project, cache)


def test_a_gitignore_edit(warm):
    project, cache = warm
    write_tree(project, {".gitignore": "shop/views.py\n"})
    assert '"LG101"' not in _assert_fresh(project, cache)
    write_tree(project, {".gitignore": "other.py\n"})  # an edit of a file that existed
    assert '"LG101"' in _assert_fresh(project, cache)


def test_a_baseline_edit(warm):
    project, cache = warm
    baseline = project / "layerguard-baseline.json"
    _run(project, cache, "--write-baseline", str(baseline))
    assert '"LG101"' not in _assert_fresh(project, cache, "--baseline", str(baseline))
    baseline.write_text('{"version": 1, "entries": []}\n')
    _assert_fresh(project, cache, "--baseline", str(baseline))


def test_layerguard_upgraded(warm, tmp_path):
    """A new version (here: the version string changed at start-up) never replays the old output."""
    project, cache = warm
    shim = tmp_path / "shim"
    write_tree(shim, {"sitecustomize.py": "import layerguard\nlayerguard.__version__ = '99.0'\n"})
    path = os.pathsep.join([str(shim), os.environ.get("PYTHONPATH", "")])
    upgraded = _assert_fresh(project, cache, env={"PYTHONPATH": path})
    assert '"99.0"' in upgraded


def test_output_file_is_replayed(warm):
    project, cache = warm
    out = project.parent / "report.json"
    _run(project, cache, "--output", str(out))
    out.unlink()
    result = _run(project, cache, "--output", str(out))
    assert _replayed(result) and '"LG101"' in out.read_text() and result.returncode == 1


@pytest.mark.parametrize("argv, expected", [
    (["check", "."], True),
    (["check", "--format", "json", "--select=LG1", "-j", "2", "a.py"], True),
    (["check", "--no-cache", "."], False),
    (["check", "--diff", "main"], False),
    (["check", "--write-baseline"], False),
    (["check", "--fix", "."], False),
    (["check", "--format"], False),
    (["graph", "."], False),
])
def test_which_command_lines_are_replayed(argv, expected):
    assert eligible(argv) is expected


def test_semgrep_upgraded(scaffold, tmp_path):
    """A different semgrep binary at the same path (an upgrade) never replays the output
    an older one produced: its identity is part of the record's key."""
    from layerguard.semgrep import find_semgrep

    real = find_semgrep()[0]
    start = f"exec -a osemgrep {real}" if Path(real).name == "semgrep-core" else f"exec {real}"
    binary = tmp_path / "semgrep"
    binary.write_text(f'#!/bin/bash\n{start} "$@"\n')
    binary.chmod(0o755)
    write_tree(scaffold, {"shop/views.py": VIEW, "pyproject.toml": CONFIG})
    cache, env = tmp_path / "cache", {"LAYERGUARD_SEMGREP": str(binary)}
    assert not _replayed(_run(scaffold, cache, env=env)) and _replayed(_run(scaffold, cache, env=env))
    binary.write_text(f'#!/bin/bash\n# semgrep 2.0\n{start} "$@"\n')
    assert not _replayed(_run(scaffold, cache, env=env))
