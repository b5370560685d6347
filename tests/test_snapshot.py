"""The tree snapshot (snapshot.py): a run after an edit reads the edited file and no
other, trusts no entry whose timestamp is racy, and reads a trusted file only when its
text is needed. That every kind of change still gives the `--no-cache` result is
tested with the run record's cases (test_run_record.py, "tree snapshot")."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import write_tree

from layerguard import engine
from layerguard import snapshot as tree_snapshot
from layerguard.checkers import rule_catalog
from layerguard.config import load_settings
from layerguard.discover import Discovery
from layerguard.hashes import content_hash as digest
from layerguard.runrecord import stat_identity
from layerguard.semgrep import RunningSemgrep
from layerguard.snapshot import RACY_MARGIN_NS, Sources, load, save

VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create()\n"


def _check(project: Path):
    settings = load_settings(None, project, rule_catalog())
    return engine.check(settings, [project], ["LG"], [])


def _age(tree: Path) -> None:
    """Every file and directory written long before the run: no timestamp is racy."""
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, ns=(1_000_000_000, 1_000_000_000))


def test_an_edit_reads_only_the_edited_file(scaffold, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERGUARD_CACHE_DIR", str(tmp_path / "cache"))
    write_tree(scaffold, {"shop/views.py": VIEW, "shop/helpers.py": "def helper():\n    return 1\n"})
    _age(scaffold)
    first = _check(scaffold)
    assert [v.code for v in first.violations] == ["LG101"]
    # A body edit that keeps the file's signature (only helpers.py is re-checked), written
    # in place (the listing holds).
    (scaffold / "shop" / "helpers.py").write_text("def helper():\n    # edited\n    return 1\n")
    read, walked = [], []
    real_read, real_discover = engine.read_source, engine.discover_files
    monkeypatch.setattr(engine, "read_source", lambda path: read.append(path.name) or real_read(path))
    monkeypatch.setattr(tree_snapshot, "read_source", lambda path: read.append(path.name) or real_read(path))
    monkeypatch.setattr(engine, "discover_files", lambda settings: walked.append(1) or real_discover(settings))
    again = _check(scaffold)
    assert read == ["helpers.py"] and walked == []
    assert [(v.code, v.path, v.line) for v in again.violations] == [(v.code, v.path, v.line) for v in first.violations]
    # views.py's verdict, fingerprint included, came from the cache: it was not read for it.
    assert again.violations[0].fingerprint == first.violations[0].fingerprint != ""


def test_a_racy_entry_is_not_trusted(tmp_path):
    """git's rule, with a margin for coarse clocks: a file written shortly before the run
    that recorded it started, or while it ran, is hashed again."""
    path = tmp_path / "a.py"
    path.write_text("x = 1\n")
    identity = stat_identity(os.stat(path))
    entry = {str(path): (identity, digest(b"x = 1\n"))}
    written = identity[1]
    save(tmp_path / "long-after.pickle", "key", Discovery(), entry, started_ns=written + 2 * RACY_MARGIN_NS)
    save(tmp_path / "soon-after.pickle", "key", Discovery(), entry, started_ns=written + RACY_MARGIN_NS // 2)
    trusted, racy = load(tmp_path / "long-after.pickle"), load(tmp_path / "soon-after.pickle")
    assert trusted.digest_of(str(path), identity) == digest(b"x = 1\n")
    assert racy.digest_of(str(path), identity) is None
    assert trusted.digest_of(str(path), (*identity[:3], identity[3] + 1)) is None  # another inode
    assert trusted.unchanged_discovery("another key") is None  # other include/exclude settings


def test_sources_read_on_demand_and_rehash_a_changed_file(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    digests = {"a.py": digest(b"x = 1\n"), "b.py": digest(b"y = 2\n")}
    sources = Sources(tmp_path, digests)
    sources.later("a.py", digests["a.py"])
    sources["b.py"] = b"y = 2\n"
    assert "a.py" in sources and "c.py" not in sources and len(sources) == 2
    assert sources["a.py"] == b"x = 1\n" and not sources.untrusted
    (tmp_path / "c.py").write_text("z = 3\n")
    digests["c.py"] = digest(b"z = 2\n")
    sources.later("c.py", digests["c.py"])  # edited after it was vouched for
    assert sources["c.py"] == b"z = 3\n" and sources.untrusted == {"c.py"}
    assert digests["c.py"] == digest(b"z = 3\n")  # what is cached from these bytes goes under their hash
    assert list(sources) == ["a.py", "b.py", "c.py"]  # the order given, whatever was read
    sources.later("d.py", digest(b""))
    (tmp_path / "d.py").write_text("")
    assert [path for path, _ in sources.items()] == ["a.py", "b.py", "c.py", "d.py"]  # read while iterated


def test_a_changed_listing_is_walked_again(scaffold, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERGUARD_CACHE_DIR", str(tmp_path / "cache"))
    write_tree(scaffold, {"shop/views.py": VIEW})
    _check(scaffold)
    write_tree(scaffold, {"shop/api.py": VIEW.replace("def create(", "def other(")})
    report = _check(scaffold)
    assert sorted(Path(v.path).name for v in report.violations) == ["api.py", "views.py"]


def test_a_file_edited_during_the_run_is_read_again(scaffold, tmp_path, monkeypatch):
    """The race the hash check exists for: a file the snapshot vouched for is edited
    after its stat and before its bytes are read. The run starts again without the
    snapshot, so its result is that of the edited tree, never old facts with new bytes."""
    monkeypatch.setenv("LAYERGUARD_CACHE_DIR", str(tmp_path / "cache"))
    write_tree(scaffold, {"shop/views.py": VIEW})
    _age(scaffold)
    _check(scaffold)
    models = scaffold / "shop" / "models.py"
    # Every file re-checked, and semgrep started on models.py (it holds a call a rule could match).
    models.write_text(models.read_text() + "\n\nclass Extra(models.Model):\n    def touch(self):\n        self.save()\n")
    views = scaffold / "shop" / "views.py"
    real_read = tree_snapshot.read_source

    def edited_meanwhile(path):
        if path.name == "views.py":
            views.write_text(VIEW.replace("objects.create()", "objects.all()"))
        return real_read(path)

    monkeypatch.setattr(tree_snapshot, "read_source", edited_meanwhile)
    runs, real_check = [], engine._check
    monkeypatch.setattr(engine, "_check", lambda *a, **k: runs.append(k["trust_snapshot"]) or real_check(*a, **k))
    abandoned, real_abandon = [], RunningSemgrep.abandon
    monkeypatch.setattr(RunningSemgrep, "abandon", lambda self: abandoned.append(1) or real_abandon(self))
    report = _check(scaffold)
    assert runs == [True, False] and [v.code for v in report.violations] == []
    assert abandoned == [1]  # the first attempt's semgrep (on models.py) stopped, not left running
    monkeypatch.setenv("LAYERGUARD_CACHE_DIR", str(tmp_path / "another-cache"))
    assert _check(scaffold).violations == report.violations
