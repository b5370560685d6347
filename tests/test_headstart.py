"""The head start (headstart.py): after an edit, semgrep starts from the outdated run
record before the checkers are imported, and the engine adopts that process only when
it is the one it would have started; otherwise the process is stopped and the result
is still what `--no-cache` prints. Each test runs the real CLI in this process (the
head start lives in the process's memory) against the real semgrep."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import write_tree

from layerguard import headstart, runrecord
from layerguard.cli import main as cli

VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create()\n"
SERVICE = "from shop.models import Order\n\n\ndef order_create():\n    return Order.objects.create()\n"
CONFIG = '[tool.layerguard]\nselect = ["LG"]\n'
ARGV = ["check", "--format", "json", "."]


@pytest.fixture
def recorded(scaffold, tmp_path, monkeypatch):
    """A project with a run record, and this process set up as the CLI's would be."""
    write_tree(scaffold, {"shop/views.py": VIEW, "shop/services.py": SERVICE, "pyproject.toml": CONFIG})
    cache = tmp_path / "cache"
    monkeypatch.setenv("LAYERGUARD_CACHE_DIR", str(cache))
    monkeypatch.setenv("NO_COLOR", "1")
    # Part of the record's key, and set in this process by the time a test runs (not in
    # its children): set for both.
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.chdir(scaffold)
    for _ in range(2):
        subprocess.run([sys.executable, "-m", "layerguard", *ARGV], cwd=scaffold, capture_output=True, check=False)
    assert list(cache.glob("run-*.pickle"))
    monkeypatch.setattr(runrecord, "OUTDATED", None)
    monkeypatch.setattr(runrecord, "PENDING_KEY", None)
    adopted = []
    real_adopt = headstart.adopt

    def recording_adopt(*arguments):
        started = headstart._STARTED
        result = real_adopt(*arguments)
        adopted.append((started.running if started else None, result))
        return result

    monkeypatch.setattr(headstart, "adopt", recording_adopt)
    return scaffold, adopted


def _launch(capsys, argv: list[str] = ARGV) -> str:
    """What launch.main does, without ending the process: replay, head start, CLI."""
    assert runrecord.replay(argv) is None  # no record, or one that no longer holds
    if runrecord.OUTDATED is not None:
        headstart.start(runrecord.OUTDATED)
    else:
        headstart.start_for_named_files(argv)
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli(argv)
    return capsys.readouterr().out


def _no_cache(project: Path, argv: list[str] = ARGV) -> str:
    """What the same command prints with --no-cache (argv: `check --format json PATH...`)."""
    return subprocess.run([sys.executable, "-m", "layerguard", *argv[:3], "--no-cache", *argv[3:]], cwd=project,
                          capture_output=True, text=True, env={**os.environ}).stdout


def test_an_edited_file_is_scanned_by_the_process_started_before_the_checkers(recorded, capsys):
    project, adopted = recorded
    write_tree(project, {"shop/views.py": VIEW + "\n\ndef more(request):\n    Order.objects.update(x=1)\n"})
    printed = _launch(capsys)
    [(running, result)] = adopted
    assert running is not None and running.paths == {"shop/views.py"}
    assert result is running  # adopted: no second semgrep
    assert printed == _no_cache(project) and printed.count('"code": "LG101"') == 2


def test_a_config_edit_that_changes_the_rules_stops_the_early_process(recorded, capsys):
    project, adopted = recorded
    write_tree(project, {"shop/views.py": VIEW.replace("create()", "update(x=1)"),
                         "pyproject.toml": CONFIG + 'ignore = ["LG402"]\n'})
    printed = _launch(capsys)
    [(running, result)] = adopted
    assert running is not None and result is None  # other rule files: the engine starts its own
    assert running._process._process.poll() is not None  # the early one was stopped
    assert printed == _no_cache(project) and '"LG101"' in printed


def test_bytes_whose_matches_are_cached_keep_no_early_process(recorded, capsys, monkeypatch):
    """An edit that gives a file bytes semgrep has seen (another file's, as a copy or a
    revert to a version still in the tree makes): no semgrep is started when the plan's
    run saw them, and one started is stopped at once when only the cache knows them."""
    project, adopted = recorded
    twin = VIEW.replace("def create(", "def make(")
    write_tree(project, {"shop/api.py": twin})
    subprocess.run([sys.executable, "-m", "layerguard", *ARGV], cwd=project, capture_output=True, check=False)
    write_tree(project, {"shop/views.py": twin})
    assert runrecord.replay(ARGV) is None
    headstart.start(runrecord.OUTDATED)
    assert headstart._STARTED is None  # the plan's run left those bytes' matches cached
    plan = runrecord.latest_plan()
    monkeypatch.setattr(runrecord, "latest_plan", lambda: replace(plan, matched=frozenset()))
    headstart.start(runrecord.OUTDATED)
    assert headstart._STARTED is not None and headstart._STARTED.running is None  # the cache said so
    capsys.readouterr()
    with pytest.raises(SystemExit):
        cli(ARGV)
    assert capsys.readouterr().out == _no_cache(project)
    assert headstart._STARTED is None and adopted == []  # every match cached: semgrep not asked for


def test_an_edited_exempt_file_starts_no_semgrep(recorded, capsys):
    project, adopted = recorded
    write_tree(project, {"shop/tests/__init__.py": "", "shop/tests/test_views.py": VIEW})
    subprocess.run([sys.executable, "-m", "layerguard", *ARGV], cwd=project, capture_output=True, check=False)
    write_tree(project, {"shop/tests/test_views.py": VIEW + "# more\n"})
    assert runrecord.replay(ARGV) is None
    headstart.start(runrecord.OUTDATED)
    assert headstart._STARTED is None  # tests are exempt: nothing for semgrep


def test_pre_commit_naming_edited_files_gets_the_head_start_from_the_last_run(recorded, capsys):
    """No record for this command line (pre-commit names other files each time): the
    latest run's plan still tells which named files semgrep is run on, and how."""
    project, adopted = recorded
    write_tree(project, {"shop/views.py": VIEW + "\n\ndef more(request):\n    Order.objects.update(x=1)\n",
                         "shop/admin_actions.py": "def reset(queue):\n    queue.clear()\n"})
    argv = ["check", "--format", "json", "shop/admin_actions.py", "shop/services.py", "shop/views.py"]
    printed = _launch(capsys, argv)
    [(running, result)] = adopted
    # shop/admin_actions.py is new (the last run did not find it) and services.py unchanged
    # (its matches cached): semgrep is started on views.py, and the engine, which needs it
    # for admin_actions.py too, starts its own.
    assert running is not None and running.paths == {"shop/views.py"} and result is None
    assert printed == _no_cache(project, argv)
    adopted.clear()
    write_tree(project, {"shop/views.py": VIEW + "\n\ndef other(request):\n    Order.objects.all().delete()\n"})
    argv = ["check", "--format", "json", "shop/models.py", "shop/services.py", "shop/views.py"]
    runrecord.OUTDATED = None
    printed = _launch(capsys, argv)
    [(running, result)] = adopted
    # services.py's matches are cached (the plan's run saw its bytes) and models.py holds
    # no call a rule could match: semgrep was given views.py alone, and adopted.
    assert running is not None and running.paths == {"shop/views.py"} and result is running
    assert printed == _no_cache(project, argv)
