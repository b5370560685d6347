"""One odd file never takes down a run (issue 10, points 1 and 3).

tests/fixtures/odd_tree holds a normal view and hostile sources; this module adds, in
its copy, what git cannot hold or what is large: symlink loops, a FIFO, a socket, names
that are not UTF-8, 10,000 functions, a 50,000-character line, a 5 MB module. One run of
the real CLI over all of it must give an ordinary report: findings, LG900 on the files
that cannot be read, the rest skipped with a reason, exit 1, nothing raised.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, copy_fixture, run_cli, write_tree

WRITE = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create(total=1)\n"


def _odd_file_system(project: Path) -> None:
    shop = project / "shop"
    os.symlink("loop_b.py", shop / "loop_a.py")
    os.symlink("loop_a.py", shop / "loop_b.py")
    os.symlink("self.py", shop / "self.py")
    os.symlink("missing.py", shop / "dangling.py")
    os.symlink("..", shop / "again")  # a directory cycle: shop/again/shop/again/...
    os.symlink("views.py", shop / "linked_views.py")  # the same file under two names
    outside = project.parent / "outside"  # a file only a link brings into the project
    outside.mkdir()
    (outside / "shared_views.py").write_text(WRITE)
    (project / "linked").mkdir()
    os.symlink(outside / "shared_views.py", project / "linked" / "views.py")
    os.mkfifo(shop / "pipe.py")
    here = os.getcwd()
    os.chdir(shop)  # a socket path must be short
    try:
        server = socket.socket(socket.AF_UNIX)
        server.bind("sock.py")
        server.close()
    finally:
        os.chdir(here)
    os.mkdir(os.fsencode(shop) + b"/d\xe9r")
    with open(os.fsencode(shop) + b"/d\xe9r/views.py", "w") as handle:
        handle.write(WRITE)
    with open(os.fsencode(shop) + b"/caf\xe9.py", "w") as handle:
        handle.write(WRITE)


def _large_sources(project: Path) -> dict[str, int]:
    """The large hostile modules, and the line of the write each holds."""
    views = project / "hostile" / "views"
    functions = "".join(f"def view_{i}(request):\n    return {i}\n\n\n" for i in range(10_000))
    (views / "ten_thousand_functions.py").write_text(f"from shop.models import Order\n\n\n{functions}"
                                                     "def last(request):\n    Order.objects.create()\n")
    long_line = "DATA = [" + ", ".join(str(i) for i in range(9_000)) + "]"
    assert len(long_line) > 50_000
    (views / "long_line.py").write_text(f"from shop.models import Order\n{long_line}\n\n\n"
                                        "def create(request):\n    Order.objects.create()\n")
    generated = "".join(f"CONSTANT_{i} = {{'key': {i}, 'name': 'value {i}'}}\n" for i in range(120_000))
    assert len(generated) > 5_000_000
    # One call a rule could match (CACHE.clear()): without one, semgrep is not needed at
    # all, and the size is no reason to say the file was not fully checked.
    (project / "hostile" / "generated.py").write_text(generated + "CACHE.clear()\n")
    (project / "hostile" / "generated_constants.py").write_text(generated)
    return {"hostile/views/ten_thousand_functions.py": 40_005, "hostile/views/long_line.py": 6}


@pytest.fixture(scope="module")
def odd_run(tmp_path_factory):
    project = copy_fixture("odd_tree", tmp_path_factory.mktemp("odd"))
    _odd_file_system(project)
    writes = _large_sources(project)
    result = run_cli("check", "--no-cache", "--format", "json", "-v", ".", cwd=project)
    return result, writes


def test_the_odd_tree_gives_an_ordinary_report_and_exit_1(odd_run):
    result, _ = odd_run
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_every_readable_file_beside_the_odd_ones_is_checked(odd_run):
    result, writes = odd_run
    found = set(result.found("LG101"))
    assert {("LG101", "shop/views.py", 5), ("LG101", "shop/x.py/views.py", 5),
            ("LG101", "hostile/views/long_chain.py", 5), ("LG101", "hostile/views/deep_chains.py", 8),
            ("LG101", "linked/views.py", 5)} <= found  # a link to a file outside: checked under its name
    assert {("LG101", path, line) for path, line in writes.items()} <= found


def test_a_symlinked_file_pointing_to_a_checked_file_is_checked_once(odd_run):
    result, _ = odd_run
    assert [v for v in result.found("LG101") if v[1].startswith("shop/") and v[1] != "shop/x.py/views.py"] == [
        ("LG101", "shop/views.py", 5)]


def test_links_that_cannot_be_followed_and_unparsable_files_are_lg900(odd_run):
    result, _ = odd_run
    messages = {v["path"]: v["message"] for v in result.json["violations"] if v["code"] == "LG900"}
    assert messages["shop/loop_a.py"] == "could not read this file: symlink loop (too many levels of symbolic links)"
    assert messages["shop/self.py"] == messages["shop/loop_b.py"] == messages["shop/loop_a.py"]
    assert messages["shop/dangling.py"] == "could not read this file: symlink to a missing file"
    assert messages["hostile/views/nested_parens.py"] == "could not parse this file: too many nested parentheses"
    assert {"hostile/views/syntax_error.py", "hostile/views/nul_byte.py",
            "hostile/views/latin1_undeclared.py"} <= set(messages)
    assert not {"hostile/views/empty.py", "hostile/views/long_chain.py", "hostile/views/deep_chains.py"} & set(messages)


def test_a_module_over_semgreps_size_limit_is_reported_not_passed_as_clean(odd_run):
    result, _ = odd_run
    (message,) = [v["message"] for v in result.json["violations"] if v["path"] == "hostile/generated.py"]
    assert message.startswith("not fully checked: semgrep did not read it: ")
    assert "over its limit of 2,000,000 (LAYERGUARD_SEMGREP_MAX_BYTES)" in message
    # As large, with no call any semgrep rule could match (its prefilter): fully checked.
    assert not [v for v in result.json["violations"] if v["path"] == "hostile/generated_constants.py"]


def test_what_cannot_hold_python_is_skipped_with_its_reason(odd_run):
    result, _ = odd_run
    skipped = {entry["path"]: entry["reason"] for entry in result.json["skipped"]}
    assert skipped == {
        "shop/again/": "symlink to a directory (not followed)",
        "shop/caf\\xe9.py": "file name is not valid UTF-8",
        "shop/d\\xe9r/": "directory name is not valid UTF-8",
        "shop/linked_views.py": "symlink to shop/views.py, checked there",
        "shop/pipe.py": "not a regular file (FIFO)",
        "shop/sock.py": "not a regular file (socket)",
    }
    assert result.json["summary"]["skipped"] == 6


def test_verbose_lists_each_skipped_path_with_its_reason_on_stderr(odd_run):
    result, _ = odd_run
    assert "layerguard: skipped shop/pipe.py: not a regular file (FIFO)" in result.stderr.splitlines()
    assert sum(line.startswith("layerguard: skipped ") for line in result.stderr.splitlines()) == 6


def test_the_text_summary_counts_the_skipped_paths(tmp_path):
    project = copy_fixture("odd_tree", tmp_path)
    os.mkfifo(project / "shop" / "pipe.py")
    result = run_cli("check", "--no-cache", "shop", cwd=project)
    assert result.stdout.splitlines()[-1] == "Found 2 errors (5 files checked, 1 skipped, 2 with --fix --unsafe-fixes)."
    assert "pipe.py" not in result.stderr  # listed only with -v


def test_a_pre_commit_run_on_one_file_does_not_hear_of_skips_elsewhere(tmp_path):
    project = copy_fixture("odd_tree", tmp_path)
    os.mkfifo(project / "hostile" / "pipe.py")
    result = run_cli("check", "--no-cache", "--format", "json", "shop/views.py", cwd=project)
    assert result.json["skipped"] == [] and result.found() == [("LG101", "shop/views.py", 5)]


def test_a_path_on_the_command_line_that_does_not_exist_is_a_one_line_error(tmp_path):
    project = copy_fixture("odd_tree", tmp_path)
    result = run_cli("check", "shop/nowhere.py", cwd=project)
    assert result.exit_code == 2
    assert result.stderr == "layerguard: error: path `shop/nowhere.py` does not exist\n"


def test_a_symlink_loop_named_on_the_command_line_is_its_lg900(tmp_path):
    project = copy_fixture("odd_tree", tmp_path)
    os.symlink("self.py", project / "shop" / "self.py")
    result = run_cli("check", "--no-cache", "--format", "json", "shop/self.py", cwd=project)
    assert result.exit_code == 1, result.stderr
    assert result.found() == [("LG900", "shop/self.py", 1)]


def _without_root_privileges() -> tuple[str, ...]:
    """A prefix under which chmod 000 means unreadable: root reads anything unless the
    capabilities that let it are dropped."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: root reads files whatever their mode")
    caps = "-dac_override,-dac_read_search"
    return ("setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}")


def test_a_file_without_read_permission_is_an_lg900_and_the_rest_is_checked(tmp_path):
    project = copy_fixture("odd_tree", tmp_path)
    write_tree(project, {"shop/secret.py": WRITE})
    (project / "shop" / "secret.py").chmod(0)
    try:
        result = run_cli("check", "--no-cache", "--format", "json", "shop", cwd=project,
                         prefix=_without_root_privileges())
    finally:
        (project / "shop" / "secret.py").chmod(0o644)
    assert result.exit_code == 1, result.stderr
    messages = {v["path"]: v["message"] for v in result.json["violations"] if v["code"] == "LG900"}
    assert messages == {"shop/secret.py": "could not read this file: Permission denied"}
    assert ("LG101", "shop/views.py", 5) in result.found()


def test_a_directory_without_read_permission_is_skipped_and_the_rest_is_checked(tmp_path):
    project = copy_fixture("odd_tree", tmp_path)
    write_tree(project, {"shop/locked/views.py": WRITE})
    (project / "shop" / "locked").chmod(0)
    try:
        result = run_cli("check", "--no-cache", "--format", "json", "shop", cwd=project,
                         prefix=_without_root_privileges())
    finally:
        (project / "shop" / "locked").chmod(0o755)
    assert result.exit_code == 1, result.stderr
    assert result.json["skipped"] == [{"path": "shop/locked/", "reason": "directory could not be read: Permission denied"}]
    assert ("LG101", "shop/views.py", 5) in result.found()


def test_a_file_that_vanishes_between_listing_and_reading_is_skipped(tmp_path):
    """The race itself cannot be timed from outside; the engine is given a file list in
    which one file has gone since discovery listed it."""
    from layerguard.config import Settings
    from layerguard.engine import _read

    project = copy_fixture("odd_tree", tmp_path)
    sources, _, skipped = _read(Settings(root=project), ["shop/views.py", "shop/gone.py"])
    assert list(sources) == ["shop/views.py"]
    assert [(s.path, s.reason) for s in skipped] == [("shop/gone.py", "vanished before it could be read")]


def test_a_fifo_is_never_opened_for_reading(tmp_path):
    """Reading a FIFO blocks until a writer comes: the run would hang, not fail."""
    from layerguard.discover import ReadProblem, read_source

    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    assert read_source(fifo) == ReadProblem("not a regular file (FIFO)", skip=True)
