"""The content-addressed cache: what each file contributes, keyed by the hash of its bytes.

Three things are stored, each keyed so that it can only be reused when still right:
- a file's facts (each pickled apart, as facts.ModuleFacts.stored gives them, so
  that a run unpickles only the facts it reads) and its *signature* (its facts
  without line numbers: what other files' verdicts can depend on), by content hash
  and layerguard version;
- a file's raw semgrep matches, by content hash and the rules' hash;
- a file's violations, by content hash, the rules-and-settings hash and the
  *project signature* (every file's path and signature): editing a function body
  re-checks that file only, while changing a base class, a model field or an import
  anywhere re-checks every file.

Beside them, the project-wide tables of the latest project signature (project.py's
StoredTables: which classes are models, the user model, the model graph, the admin and
signal indexes), which depend on no position: a re-check of one edited file whose
signature did not change reads them instead of resolving every class again.

It lives outside the checked tree (the user cache directory, or LAYERGUARD_CACHE_DIR),
one index and one facts file per project root, beside each of which a small file holds
what was added since it was last written whole (a run that re-parsed a few files
writes those, not every file's facts and entries again: saleor's 14 MB took 0.5 s), and the
tree snapshot (snapshot.py: the last listing and each file's stat identity). Writes
are atomic (a temporary file renamed over the old one), so concurrent runs never see
half a file; the last writer wins. An unreadable or corrupt cache is ignored and rewritten.

Each layerguard version (its code version: an upgrade, another install, an edited
checkout) keeps files of its own, so a run that writes a project's cache whole also
removes what nothing has used for a week (prune_stale): another version's files of any
project once the newest of them is that old, run records and semgrep plans that old,
and temporary files a killed run left behind a day ago.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
from pathlib import Path

from layerguard.hashes import content_hash, sha256  # noqa: F401 (content_hash: re-exported)
from layerguard.runrecord import cache_directory, code_version  # noqa: F401 (code_version: re-exported)

FORMAT = 2  # 2: facts stored one by one (ModuleFacts.stored)
_SECTIONS = ("signatures", "matches", "violations")  # of the index
# The added facts are folded into the facts file once they are this share of it.
FOLD_SHARE = 0.05
STALE_SECONDS = 7 * 24 * 3600  # another version's files, run records, plans: unused this long
STALE_TEMPORARY_SECONDS = 24 * 3600  # a killed run's temporary file


def default_cache_dir() -> Path:
    return Path(cache_directory())




class Cache:
    """One project's cache. `enabled=False` makes every lookup miss and `save` a no-op."""

    def __init__(self, root: Path, enabled: bool = True, directory: Path | None = None):
        self.enabled = enabled
        key = sha256(str(root.resolve()).encode()).hexdigest()[:16]
        self.directory = directory or default_cache_dir()
        version = code_version()
        self.index_file = self.directory / f"{key}-{version}-index.pickle"
        self.facts_file = self.directory / f"{key}-{version}-facts.pickle"
        self.added_facts_file = self.directory / f"{key}-{version}-facts-added.pickle"
        self.snapshot_file = self.directory / f"{key}-{version}-tree.pickle"  # snapshot.py
        self.tables_file = self.directory / f"{key}-{version}-tables.pickle"
        self.added_index_file = self.directory / f"{key}-{version}-index-added.pickle"
        self._new_tables: dict | None = None
        self._stored_facts: set[str] = set()  # digests in the facts file itself
        self.index = self._load(self.index_file) if enabled else {}
        # Entries put since the index file was last written whole, kept in a small file
        # beside it as the facts are (a re-check of one edited file wrote the whole index:
        # saleor, 0.01 s). Any entry is right with any index file: each is keyed by what
        # it was computed from.
        added = self._load(self.added_index_file) if enabled and self.index else {}
        self._stored_entries = sum(len(self.index.get(section, {})) for section in _SECTIONS)
        self._added: dict[str, dict] = {section: {} for section in _SECTIONS}
        for section in _SECTIONS:
            self.index.setdefault(section, {}).update(added.get(section, {}))
            self._added[section].update(added.get(section, {}))
        if "facts_digests" in added:
            self.index["facts_digests"] = added["facts_digests"]
        self.index["rules"] = {**self.index.get("rules", {}), **added.get("rules", {})}
        self._facts: dict | None = None
        self._dirty_index = False
        self._dirty_facts = False

    @staticmethod
    def _load(path: Path) -> dict:
        try:
            with path.open("rb") as handle:
                data = pickle.load(handle)
            return data if isinstance(data, dict) and data.get("format") == FORMAT else {}
        except Exception:  # missing, truncated, corrupt, from another version: start afresh
            return {}

    # -- facts (large: loaded only when some file needs them) --------------------
    @property
    def facts(self) -> dict:
        if self._facts is None:
            self._facts = self._load(self.facts_file).get("facts", {}) if self.enabled else {}
            self._stored_facts = set(self._facts)
            if self.enabled:
                self._facts.update(self._load(self.added_facts_file).get("facts", {}))
        return self._facts

    def get_facts(self, digest: str):
        # Facts are only of use with their signature (the project key is made of them).
        return self.facts.get(digest) if digest in self.index["signatures"] else None

    def put_facts(self, digest: str, facts, signature: str) -> None:
        self.facts[digest] = facts
        self.index["signatures"][digest] = self._added["signatures"][digest] = signature
        self._dirty_facts = self._dirty_index = True

    def signature(self, digest: str) -> str | None:
        return self.index["signatures"].get(digest)

    # -- semgrep matches -----------------------------------------------------------
    def get_matches(self, digest: str, rules_key: str):
        return self.index["matches"].get((digest, rules_key))

    def put_matches(self, digest: str, rules_key: str, matches: list) -> None:
        self.index["matches"][(digest, rules_key)] = self._added["matches"][(digest, rules_key)] = matches
        self._dirty_index = True

    # -- layerguard's own semgrep rules as read (semgrep.known_rules) -----------------
    def get_rules(self) -> dict:
        return self.index["rules"]

    def put_rules(self, rules: dict) -> None:
        if rules != self.index["rules"]:
            self.index["rules"] = dict(rules)
            self._dirty_index = True

    # -- violations ----------------------------------------------------------------
    def get_violations(self, digest: str, key: str):
        return self.index["violations"].get((digest, key))

    def put_violations(self, digest: str, key: str, violations: list) -> None:
        self.index["violations"][(digest, key)] = self._added["violations"][(digest, key)] = violations
        self._dirty_index = True

    # -- project tables (project.StoredTables): of the latest project key only ---------
    def get_tables(self, project_key: str) -> dict:
        if not self.enabled:
            return {}
        stored = self._load(self.tables_file)
        return stored.get("tables", {}) if stored.get("project_key") == project_key else {}

    def put_tables(self, project_key: str, tables: dict) -> None:
        self._new_tables = {"format": FORMAT, "project_key": project_key, "tables": tables}

    @property
    def keeps_snapshot(self) -> bool:
        """Whether a run reads and writes the tree snapshot (snapshot.py) beside this cache."""
        return self.enabled

    def save(self, live_digests: set[str]) -> None:
        """Write what changed, keeping only entries of files that exist now."""
        if not self.enabled or not (self._dirty_index or self._dirty_facts or self._new_tables):
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            if self._new_tables is not None:
                _atomic_write(self.tables_file, self._new_tables)
                self._new_tables = None
            if not (self._dirty_index or self._dirty_facts):
                return
            if self._dirty_facts:
                added = {d: f for d, f in self.facts.items() if d not in self._stored_facts and d in live_digests}
                if self._stored_facts and len(added) <= FOLD_SHARE * len(self._stored_facts):
                    _atomic_write(self.added_facts_file, {"format": FORMAT, "facts": added})
                else:  # written whole, without the facts of files that no longer exist
                    facts = {d: f for d, f in self.facts.items() if d in live_digests}
                    _atomic_write(self.facts_file, {"format": FORMAT, "facts": facts})
                    self.added_facts_file.unlink(missing_ok=True)
                    self._stored_facts, added = set(facts), {}
                self.index["facts_digests"] = self._stored_facts | set(added)
                self._dirty_facts = False
            added_entries = sum(len(entries) for entries in self._added.values())
            if self._stored_entries and added_entries <= FOLD_SHARE * self._stored_entries:
                _atomic_write(self.added_index_file, {"format": FORMAT, **self._added, "rules": self.index["rules"],
                                                      "facts_digests": self.index.get("facts_digests", set())})
                self._dirty_index = False
                return
            # The facts file may still hold the facts of a file edited since it was written
            # whole: its signature, matches and verdicts stay with them, so that undoing the
            # edit (`git stash`, an editor's undo) re-checks nothing.
            kept = live_digests | self.index.get("facts_digests", set())
            index = {
                "format": FORMAT,
                "signatures": {d: s for d, s in self.index["signatures"].items() if d in kept},
                "matches": {k: v for k, v in self.index["matches"].items() if k[0] in kept},
                "violations": {k: v for k, v in self.index["violations"].items() if k[0] in kept},
                "facts_digests": self.index.get("facts_digests", set()),
                "rules": self.index["rules"],
            }
            _atomic_write(self.index_file, index)
            self.added_index_file.unlink(missing_ok=True)
            prune_stale(self.directory, code_version())
            self._stored_entries = sum(len(index[section]) for section in _SECTIONS)
            self._added = {section: {} for section in _SECTIONS}
            self._dirty_index = False
        except OSError:
            pass  # a read-only or full cache directory must not fail the check


def prune_stale(directory: Path, current_version: str, now: float | None = None) -> list[str]:
    """Remove what no run of this version will read and nothing has used for a while
    (the module docstring); return the names removed. Another version is judged by the
    newest of a project's files: two installs used in turn on one project (pre-commit's
    own environment and the project's venv) keep each other's caches."""
    now = time.time() if now is None else now
    try:
        entries = [(entry.name, entry.stat().st_mtime) for entry in os.scandir(directory) if entry.is_file()]
    except OSError:
        return []
    newest: dict[tuple[str, str], float] = {}
    for name, mtime in entries:
        group = _version_group(name)
        if group is not None and group[1] != current_version:
            newest[group] = max(mtime, newest.get(group, 0.0))
    removed = []
    for name, mtime in entries:
        group = _version_group(name)
        if name.endswith(".tmp"):
            stale = mtime < now - STALE_TEMPORARY_SECONDS
        elif group is not None:
            stale = group in newest and newest[group] < now - STALE_SECONDS
        else:
            stale = name.startswith(("run-", "plan-")) and mtime < now - STALE_SECONDS
        if stale:
            try:
                os.unlink(os.path.join(directory, name))
                removed.append(name)
            except OSError:
                pass  # another run removed or replaced it
    return removed


def _version_group(name: str) -> tuple[str, str] | None:
    """(project key, code version) of a project's cache file (`KEY-VERSION-kind.pickle`)."""
    parts = name.split("-", 2)
    if len(parts) == 3 and len(parts[0]) == 16 and len(parts[1]) == 16 and name.endswith(".pickle"):
        return parts[0], parts[1]
    return None


def _atomic_write(path: Path, data: dict) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(data, stream, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
