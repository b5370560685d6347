"""The cache is never wrong: a changed base class or model elsewhere changes a file's
verdict, a corrupt cache is ignored and rewritten, concurrent runs agree, and the
number of workers never changes the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli, write_tree

BASE_AS_VIEW = "from rest_framework.views import APIView\n\n\nclass Base(APIView):\n    pass\n"
BASE_AS_PLAIN = "class Base:\n    pass\n"
ROUTE = ("from django.db import transaction\n\nfrom shop.base import Base\n\n\nclass Pay(Base):\n"
         "    def post(self, request):\n        with transaction.atomic():\n            return None\n")


def _run(project, cache_dir, *arguments):
    environment = {**os.environ, "LAYERGUARD_CACHE_DIR": str(cache_dir), "NO_COLOR": "1"}
    completed = subprocess.run([sys.executable, "-m", "layerguard", "check", "--format", "json", *arguments, "."],
                               cwd=project, capture_output=True, text=True, env=environment)
    return completed


def test_editing_a_base_class_in_one_file_changes_a_verdict_in_another(scaffold, tmp_path):
    cache = tmp_path / "cache"
    write_tree(scaffold, {"shop/base.py": BASE_AS_VIEW, "shop/routes.py": ROUTE})
    assert '"LG202"' in _run(scaffold, cache).stdout
    assert '"LG202"' in _run(scaffold, cache).stdout  # warm: from the cache
    write_tree(scaffold, {"shop/base.py": BASE_AS_PLAIN})
    assert '"LG202"' not in _run(scaffold, cache).stdout  # routes.py unchanged, verdict changed
    write_tree(scaffold, {"shop/base.py": BASE_AS_VIEW})
    assert '"LG202"' in _run(scaffold, cache).stdout


def test_editing_a_model_elsewhere_changes_a_related_manager_verdict(scaffold, tmp_path):
    cache = tmp_path / "cache"
    view = "from shop.models import Order\n\n\ndef tag(request):\n    order = Order.objects.get(pk=1)\n    order.labels.add(1)\n"
    write_tree(scaffold, {"shop/views.py": view})
    assert '"LG101"' not in _run(scaffold, cache).stdout  # Order has no `labels` relation
    models = (scaffold / "shop/models.py").read_text().replace("tags = models.ManyToManyField(Tag)",
                                                               "labels = models.ManyToManyField(Tag)")
    write_tree(scaffold, {"shop/models.py": models})
    assert '"LG101"' in _run(scaffold, cache).stdout


def test_a_corrupt_cache_is_ignored_and_rewritten(scaffold, tmp_path):
    cache = tmp_path / "cache"
    write_tree(scaffold, {"shop/views.py": "from shop.models import Order\n\n\ndef c(request):\n    Order.objects.create()\n"})
    first = _run(scaffold, cache).stdout
    for entry in cache.iterdir():
        entry.write_bytes(b"not a pickle")
    assert _run(scaffold, cache).stdout == first
    assert all(entry.read_bytes() != b"not a pickle" for entry in cache.iterdir())


def test_two_checks_at_once_both_give_the_right_answer(scaffold, tmp_path):
    cache = tmp_path / "cache"
    write_tree(scaffold, {"shop/views.py": "from shop.models import Order\n\n\ndef c(request):\n    Order.objects.create()\n"})
    expected = _run(scaffold, tmp_path / "other-cache", "--no-cache").stdout
    environment = {**os.environ, "LAYERGUARD_CACHE_DIR": str(cache)}
    processes = [subprocess.Popen([sys.executable, "-m", "layerguard", "check", "--format", "json", "."], cwd=scaffold,
                                  stdout=subprocess.PIPE, text=True, env=environment) for _ in range(3)]
    outputs = [process.communicate()[0] for process in processes]
    assert outputs == [expected] * 3
    assert _run(scaffold, cache).stdout == expected


def test_no_cache_writes_nothing(scaffold, tmp_path):
    cache = tmp_path / "cache"
    _run(scaffold, cache, "--no-cache")
    assert not cache.exists()


@pytest.mark.parametrize("fixture", ["tangled_monolith", "views_outside_views_modules"])
def test_jobs_1_and_jobs_2_give_byte_identical_json(tmp_path, fixture, monkeypatch):
    from conftest import copy_fixture
    import layerguard.engine

    project = copy_fixture(fixture, tmp_path)
    # Make the fixture big enough to use workers: copies of its apps' modules.
    for index in range(layerguard.engine.PARALLEL_THRESHOLD):
        write_tree(project, {f"bulk/pkg{index}/__init__.py": "", f"bulk/pkg{index}/views.py":
                             "import requests\n\n\ndef view(request):\n    requests.get('x')\n"})
    one = _run(project, tmp_path / "c1", "--no-cache", "--jobs", "1").stdout
    two = _run(project, tmp_path / "c2", "--no-cache", "--jobs", "2").stdout
    assert one == two and '"LG201"' in one


# A `check` whose every `compile()` of source text holding MARKER is counted (ast.parse
# and Python's compiler both raise the "compile" audit event), written to COUNT_FILE.
COUNTING_CHECK = """
import os, sys
marker, seen = os.environ["MARKER"].encode(), []
def hook(event, arguments):
    if event == "compile" and isinstance(arguments[0], (bytes, str)):
        text = arguments[0] if isinstance(arguments[0], bytes) else arguments[0].encode("utf-8", "replace")
        if marker in text:
            seen.append(arguments[1])
sys.addaudithook(hook)
from layerguard.cli import main
try:
    main(sys.argv[1:])
finally:
    with open(os.environ["COUNT_FILE"], "w") as handle:
        handle.write(str(len(seen)))
"""


def _counting_check(project, tmp_path, *arguments, **environment):
    """`check --format json ARGUMENTS` and how many times it parsed text holding the marker."""
    count = tmp_path / "count"
    completed = subprocess.run(
        [sys.executable, "-c", COUNTING_CHECK, "check", "--format", "json", *arguments], cwd=project,
        capture_output=True, text=True,
        env={**os.environ, "LAYERGUARD_CACHE_DIR": str(tmp_path / "cache"), "MARKER": "marker-7f3a",
             "COUNT_FILE": str(count), **environment})
    return completed, int(count.read_text())


MARKED = {"shop/views.py": "from shop.models import Order\n\n\ndef c(request):\n"
                           "    Order.objects.create()  # marker-7f3a\n",
          "shop/web.py": "import requests  # marker-7f3a\n\n\ndef hook(request):\n"
                         "    requests.post('https://example.com')\n"}


def _failing_semgrep(tmp_path):
    """A semgrep that leaves a mark and fails: a run that starts it ends with exit 2."""
    broken, started = tmp_path / "broken-semgrep", tmp_path / "semgrep-was-started"
    broken.write_text(f"#!/bin/sh\ntouch {started}\necho 'semgrep must not run on a warm cache' >&2\nexit 3\n")
    broken.chmod(0o755)
    return broken, started


def _swap_in_failing_semgrep(working: Path, tmp_path: Path) -> Path:
    """Replace the semgrep at `working` by a failing one of the same size and mtime: the
    identity layerguard keys its cache with (path, size, mtime) stays, so a warm run is
    still warm, but a run that starts semgrep fails. Returns the mark it leaves."""
    broken, started = _failing_semgrep(tmp_path)
    before = os.stat(working)
    text = broken.read_text()
    assert len(text) < before.st_size
    working.write_text(text + "#" * (before.st_size - len(text) - 1) + "\n")
    os.utime(working, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(working).st_size == before.st_size
    return started


def test_a_warm_run_reads_the_cache_and_neither_parses_nor_starts_semgrep(scaffold, tmp_path):
    """Not only the same answer: the warm run must come from the cache. Its semgrep is
    one that fails loudly (exit 2 if started at all), and no checked file is parsed."""
    from layerguard.semgrep import find_semgrep

    write_tree(scaffold, MARKED)
    real = find_semgrep()[0]
    start = f"exec -a osemgrep {real}" if Path(real).name == "semgrep-core" else f"exec {real}"
    semgrep = tmp_path / "semgrep"
    semgrep.write_text(f'#!/bin/bash\n{start} "$@"\n' + "#" * 200 + "\n")
    semgrep.chmod(0o755)
    cold, cold_parses = _counting_check(scaffold, tmp_path, ".", LAYERGUARD_SEMGREP=str(semgrep))
    assert cold.returncode == 1, cold.stderr
    assert '"LG101"' in cold.stdout and cold_parses >= 2  # the counter does see parses
    started = _swap_in_failing_semgrep(semgrep, tmp_path)
    warm, warm_parses = _counting_check(scaffold, tmp_path, ".", LAYERGUARD_SEMGREP=str(semgrep))
    assert (warm.returncode, warm.stdout, warm.stderr) == (1, cold.stdout, "")
    assert not started.exists() and warm_parses == 0
    # The same broken semgrep with the cache off is started, and fails the run: the
    # warm run above passed because of the cache, not because semgrep was not needed.
    uncached, _ = _counting_check(scaffold, tmp_path, "--no-cache", ".", LAYERGUARD_SEMGREP=str(semgrep))
    assert uncached.returncode == 2 and started.exists()


def test_checking_one_file_takes_the_other_files_facts_from_the_cache(scaffold, tmp_path):
    """The project model needs every file's facts; on a run over one changed file the
    unchanged ones are not parsed again."""
    write_tree(scaffold, MARKED)
    assert _counting_check(scaffold, tmp_path, ".")[0].returncode == 1
    models = scaffold / "shop/models.py"
    models.write_text(models.read_text() + "\n\nclass Coupon(models.Model):\n    code = models.CharField(max_length=9)\n")
    one, parses = _counting_check(scaffold, tmp_path, "shop/models.py")
    assert one.returncode == 0 and json.loads(one.stdout)["summary"]["files"] == 1, one.stderr
    assert parses == 0
    # Without the cache the same run does parse them (the counter is not blind).
    assert _counting_check(scaffold, tmp_path, "--no-cache", "shop/models.py")[1] == 2


def _logging_semgrep(tmp_path: Path) -> tuple[Path, Path]:
    """The real semgrep behind a script that appends the files it is given to a log,
    each run's followed by `---`: (the script, the log)."""
    from layerguard.semgrep import find_semgrep

    real = find_semgrep()[0]
    log = tmp_path / "semgrep-targets"
    wrapper = tmp_path / "logging-semgrep"
    # semgrep-core runs as semgrep's CLI when started under the name `osemgrep`.
    start = f"exec -a osemgrep {real}" if Path(real).name == "semgrep-core" else f"exec {real}"
    wrapper.write_text(f'#!/bin/bash\nrun=""\nfor a in "$@"; do [ -n "$run" ] && echo "$a" >> {log}; '
                       f'[ "$a" = "--" ] && run=1; done\necho --- >> {log}\n{start} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper, log


def test_a_changed_model_rechecks_other_files_with_their_cached_semgrep_matches(scaffold, tmp_path):
    """A field added to a model changes every file's verdict key, so views.py is checked
    again, but semgrep runs only on the file whose bytes changed: views.py's matches
    come from the cache, and its LG101 is still found."""
    wrapper, log = _logging_semgrep(tmp_path)
    cache = tmp_path / "cache"
    environment = {**os.environ, "LAYERGUARD_CACHE_DIR": str(cache), "LAYERGUARD_SEMGREP": str(wrapper)}
    write_tree(scaffold, {"shop/views.py": "from shop.models import Order\n\n\ndef c(request):\n"
                                          "    Order.objects.create()\n"})

    def run():
        return subprocess.run([sys.executable, "-m", "layerguard", "check", "--format", "json", "."], cwd=scaffold,
                              capture_output=True, text=True, env=environment)

    first = run()
    assert first.returncode == 1 and "shop/views.py" in log.read_text().split("---")[0]
    log.unlink()
    models = scaffold / "shop/models.py"
    # (A method that saves: a file with no call any rule could match is not given to
    # semgrep at all, see the next test.)
    models.write_text(models.read_text() + "\n\nclass Coupon(models.Model):\n    code = models.CharField(max_length=9)\n"
                      "\n    def renew(self):\n        self.save()\n")
    second = run()
    assert second.returncode == 1 and '"shop/views.py"' in second.stdout
    assert log.read_text().split() == ["shop/models.py", "---"]


def test_semgrep_is_given_only_files_that_hold_what_a_rule_can_match(scaffold, tmp_path):
    """The rules' prefilters (semgrep.prefilter_pattern): a module with no call any rule
    could match never reaches semgrep; the result is what semgrep on every file gives."""
    wrapper, log = _logging_semgrep(tmp_path)
    write_tree(scaffold, {
        "shop/views.py": "from shop.models import Order\n\n\ndef c(request):\n    Order.objects.create()\n",
        "shop/choices.py": "STATUSES = {'new': 'New'}\n\n\ndef label(key):\n    return STATUSES.get(key)\n",
        "shop/odd_layout.py": "from shop.models import Order\n\n\ndef c(request):\n    (Order.objects  # why\n"
                              "        .create  # not\n        ())\n",
    })
    environment = {"LAYERGUARD_CACHE_DIR": str(tmp_path / "cache"), "LAYERGUARD_SEMGREP": str(wrapper)}
    result = run_cli("check", "--format", "json", ".", cwd=scaffold, env=environment)
    given = log.read_text().split()
    assert "shop/views.py" in given and "shop/odd_layout.py" in given and "shop/choices.py" not in given
    found = {(v["path"], v["code"]) for v in json.loads(result.stdout)["violations"]}
    assert {("shop/views.py", "LG101"), ("shop/odd_layout.py", "LG101")} <= found
    # A tree where no file holds such a call needs no semgrep at all, even a missing one.
    (scaffold / "shop/views.py").unlink()
    (scaffold / "shop/odd_layout.py").unlink()
    missing = {**environment, "LAYERGUARD_SEMGREP": str(tmp_path / "no-such-semgrep")}
    without = run_cli("check", ".", cwd=scaffold, env=missing)
    assert without.exit_code in (0, 1) and "semgrep" not in without.stderr, without.stderr


def test_a_re_check_after_one_edit_writes_only_the_facts_it_parsed(scaffold, tmp_path):
    cache = tmp_path / "cache"
    write_tree(scaffold, {f"shop/m{i}.py": f"X{i} = {i}\n" for i in range(40)})
    _run(scaffold, cache)
    (facts,) = cache.glob("*-facts.pickle")
    (index,) = cache.glob("*-index.pickle")
    stored, stored_index = facts.read_bytes(), index.read_bytes()
    for edit in ("'edited'", "'edited again'"):
        write_tree(scaffold, {"shop/m1.py": f"X1 = {edit}\n"})
        assert _run(scaffold, cache).stdout == _run(scaffold, tmp_path / "none", "--no-cache").stdout
        assert facts.read_bytes() == stored  # every other file's facts: not written again
        assert len(list(cache.glob("*-facts-added.pickle"))) == 1
    # An edit that leaves the file's signature (a comment): the other files' verdicts
    # stand, and only what was added goes to disk, beside the index.
    stored_index = index.read_bytes()
    for comment in ("# one\n", "# two\n"):
        write_tree(scaffold, {"shop/m2.py": f"X2 = 2\n{comment}"})
        assert _run(scaffold, cache).stdout == _run(scaffold, tmp_path / "none", "--no-cache").stdout
        assert index.read_bytes() == stored_index and len(list(cache.glob("*-index-added.pickle"))) == 1
    # Past FOLD_SHARE of the files, the added facts are folded in and stale ones dropped.
    write_tree(scaffold, {f"shop/m{i}.py": f"X{i} = 'again'\n" for i in range(40)})
    assert _run(scaffold, cache).stdout == _run(scaffold, tmp_path / "none", "--no-cache").stdout
    assert facts.read_bytes() != stored and not list(cache.glob("*-facts-added.pickle"))
    assert index.read_bytes() != stored_index and not list(cache.glob("*-index-added.pickle"))
    assert _run(scaffold, cache).stdout == _run(scaffold, tmp_path / "none", "--no-cache").stdout


def test_undoing_an_edit_finds_the_first_facts_signature_and_verdicts_again(tmp_path):
    from layerguard.cache import Cache
    from layerguard.facts import extract_with_signature

    def cache():
        return Cache(tmp_path / "project", directory=tmp_path / "cache")

    files = {f"m{i}.py": f"X{i} = {i}\n".encode() for i in range(40)}
    first = cache()
    for path, source in files.items():
        first.put_facts(path, *extract_with_signature(source))  # digests: the paths, for short
    first.put_matches("m1.py", "rules", [])
    first.put_violations("m1.py", "project", ([], []))
    first.save(set(files))
    edited = cache()
    edited.put_facts("m1.py edited", *extract_with_signature(b"X1 = 'edited'\n"))
    edited.save(set(files) - {"m1.py"} | {"m1.py edited"})  # written to the added facts
    undone = cache()
    assert undone.get_facts("m1.py") is not None and undone.signature("m1.py") is not None
    assert undone.get_matches("m1.py", "rules") == [] and undone.get_violations("m1.py", "project") == ([], [])
    assert undone.get_facts("m1.py edited") is not None


def test_a_one_shot_process_holds_only_its_last_run_until_exit(scaffold, monkeypatch):
    """launch.py's HOLD_UNTIL_EXIT spares the teardown of one run; the audit's history runs
    one check per commit, and must not keep every commit's model alive to the end."""
    from layerguard import engine
    from layerguard.checkers import rule_catalog
    from layerguard.config import load_settings

    monkeypatch.setattr(engine, "HOLD_UNTIL_EXIT", [])
    settings = load_settings(None, scaffold, rule_catalog())
    for _ in range(3):
        engine.check(settings, [scaffold], ["LG"], [], use_cache=False)
    assert len(engine.HOLD_UNTIL_EXIT) == 1


def test_a_re_check_keeping_every_signature_reads_the_stored_model_tables(scaffold, tmp_path):
    """The project-wide tables (project.StoredTables: the model index, the user model, the
    model graph, the admin and signal indexes) are stored under the project key. An edit
    that keeps every signature reads them (a doctored table shows through); an edit to a
    model's field is another key, and the tables are built again, never reused stale."""
    import pickle

    cache = tmp_path / "cache"
    view = "from shop.models import Order\n\n\ndef tag(request):\n    order = Order.objects.get(pk=1)\n    order.tags.add(1)\n"
    write_tree(scaffold, {"shop/views.py": view})
    assert '"LG101"' in _run(scaffold, cache).stdout  # `tags` is a many-to-many: the model graph says so
    (tables_file,) = cache.glob("*-tables.pickle")
    stored = pickle.loads(tables_file.read_bytes())
    own, _ = stored["tables"]["model_graph"]
    del own[next(model for model in own if model.endswith(".Order"))]["tags"]
    tables_file.write_bytes(pickle.dumps(stored))
    write_tree(scaffold, {"shop/views.py": "# moved down a line: same signature\n" + view})
    assert '"LG101"' not in _run(scaffold, cache).stdout  # the doctored graph was read, not rebuilt

    models = (scaffold / "shop/models.py").read_text()
    assert "tags = models.ManyToManyField(Tag)" in models
    write_tree(scaffold, {"shop/models.py": models.replace("tags = models.ManyToManyField(Tag)",
                                                           "tags = models.ManyToManyField(Tag, related_name='+')")})
    rebuilt = _run(scaffold, cache).stdout
    assert '"LG101"' in rebuilt and rebuilt == _run(scaffold, tmp_path / "none", "--no-cache").stdout


def test_a_re_check_reads_the_rules_from_the_cache_not_their_yaml(scaffold, tmp_path):
    """layerguard's own rules, once read, are kept in the cache (of this code version):
    a re-check after an edit neither imports PyYAML nor parses them, and says the same."""
    cache = tmp_path / "cache"
    environment = {**os.environ, "LAYERGUARD_CACHE_DIR": str(cache), "NO_COLOR": "1"}
    write_tree(scaffold, {"shop/views.py": "from shop.models import Order\n\n\ndef c(request):\n"
                                          "    Order.objects.create()\n"})

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-X", "importtime", "-m", "layerguard", "check", "--format", "json",
                               "."], cwd=scaffold, capture_output=True, text=True, env=environment)

    first = run()
    assert " yaml" in first.stderr  # the first run reads the YAML
    (scaffold / "shop/views.py").write_text((scaffold / "shop/views.py").read_text() + "\n\ndef d(request):\n"
                                           "    Order.objects.filter(id=1).delete()\n")
    again = run()
    assert " yaml" not in again.stderr and again.returncode == 1
    assert again.stdout == _run(scaffold, tmp_path / "none", "--no-cache").stdout
    assert again.stdout.count('"code": "LG101"') == 2


def test_a_cold_run_prunes_what_nothing_has_used_for_a_week(scaffold, tmp_path):
    """Another version's files go once the newest of them is a week old; its fresher
    files, this version's own, unrelated files and recent records stay."""
    cache = tmp_path / "cache"
    cache.mkdir()
    week_and_a_day = 8 * 24 * 3600
    old_version = [cache / f"{'a' * 16}-{'1' * 16}-{kind}.pickle" for kind in ("index", "facts", "tree")]
    in_use_by_another_install = [cache / f"{'a' * 16}-{'2' * 16}-{kind}.pickle" for kind in ("index", "facts")]
    old_record, fresh_record = cache / f"run-{'b' * 32}.pickle", cache / f"plan-{'c' * 32}.pickle"
    left_by_a_killed_run = cache / f"{'a' * 16}-{'2' * 16}-index.pickle1234.tmp"
    not_ours = cache / "notes.txt"
    for path in [*old_version, *in_use_by_another_install, old_record, fresh_record, left_by_a_killed_run, not_ours]:
        path.write_bytes(b"x")
    aged = [*old_version, in_use_by_another_install[1], old_record, left_by_a_killed_run, not_ours]
    for path in aged:
        stamp = path.stat().st_mtime - week_and_a_day
        os.utime(path, (stamp, stamp))

    completed = _run(scaffold, cache)
    assert completed.returncode in (0, 1), completed.stderr

    remaining = {path.name for path in cache.iterdir()}
    assert not any(path.name in remaining for path in [*old_version, old_record, left_by_a_killed_run])
    # The other install's facts are old, but its index was written today: both stay.
    assert all(path.name in remaining for path in [*in_use_by_another_install, fresh_record, not_ours])
    assert any(name.endswith("-index.pickle") and name not in {p.name for p in in_use_by_another_install}
               for name in remaining)  # this run's own cache was written
