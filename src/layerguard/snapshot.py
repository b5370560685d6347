"""The tree as the last check saw it, so that a run after a small edit neither walks
the directories again nor reads the files that did not change.

The run record (runrecord.py) replays a whole run when *nothing* changed. When
something did, or the command line differs (pre-commit names the staged files), the
run goes the normal way, and this snapshot spares it the two steps that scale with the
tree rather than with the edit:

- discovery: when every directory walked and every `.gitignore` read still has the
  identity it had (git's rule, as in runrecord.py: creating, deleting or renaming a
  file changes its directory's mtime), and the include/exclude settings are the
  same, the last listing is reused;
- reading: a file whose stat identity (size, mtime_ns, ctime_ns, inode) is unchanged
  keeps its last content hash and is read only if some step needs its text
  (`Sources`). Its facts, signature, matches and verdicts come from the cache by that
  hash, as before.

Racy timestamps: an entry is trusted only when its mtime is older than the start of the
run that recorded it, less a margin (`RACY_MARGIN_NS`) that covers file systems whose
clock is coarse (mtime set from the kernel's tick, or whole seconds): a file written
while that run read it, or just before, is hashed again. A file whose bytes turn out to
differ from the trusted hash when finally read is marked, so that neither the run
record nor this snapshot vouches for it next time.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Iterator, Mapping
from pathlib import Path

from layerguard.discover import Discovery, ReadProblem, read_source
from layerguard.hashes import content_hash
from layerguard.runrecord import directories_unchanged, stat_identity

FORMAT = 1
RACY_MARGIN_NS = 2_000_000_000


def discovery_key(settings) -> str:
    """What the listing depends on besides the file system."""
    return repr((str(settings.root), settings.include, settings.exclude, settings.extend_exclude))


class Snapshot:
    """`files`: absolute path -> (stat identity, content hash) of each file read or
    trusted; `trusted_before_ns`: entries with an mtime from then on are not trusted."""

    def __init__(self, key: str, discovery: Discovery, files: dict[str, tuple], trusted_before_ns: int):
        self.key, self.discovery, self.files = key, discovery, files
        self.trusted_before_ns = trusted_before_ns

    def digest_of(self, path: str, identity: tuple | None) -> str | None:
        """The recorded hash of `path`, when its identity says it has not changed."""
        entry = self.files.get(path)
        if entry is None or identity is None or entry[0] != identity or identity[1] >= self.trusted_before_ns:
            return None
        return entry[1]

    def unchanged_discovery(self, key: str) -> Discovery | None:
        """The last listing, if nothing it depends on changed."""
        if key != self.key or not directories_unchanged(self.discovery.directories, self.trusted_before_ns):
            return None
        for gitignore in self.discovery.gitignores:
            try:
                identity = stat_identity(os.stat(gitignore))
            except OSError:
                return None
            if self.digest_of(gitignore, identity) is None:
                return None
        return self.discovery


def load(path: Path) -> Snapshot | None:
    try:
        with open(path, "rb") as handle:
            data = pickle.load(handle)
        if data.get("format") != FORMAT:
            return None
        return Snapshot(data["key"], data["discovery"], data["files"], data["started_ns"] - RACY_MARGIN_NS)
    except Exception:  # missing, corrupt, from another version: discover and read as usual
        return None


def save(path: Path, key: str, discovery: Discovery, files: dict[str, tuple], started_ns: int) -> None:
    """Atomically; a read-only cache directory is not an error."""
    from layerguard.cache import _atomic_write

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, {"format": FORMAT, "key": key, "discovery": discovery, "files": files,
                             "started_ns": started_ns})
    except OSError:
        pass


class Sources(Mapping):
    """Each file's bytes, read when first asked for. A file the snapshot vouched for is
    registered with `later(path, expected_hash)` and read only if a step needs its text
    (a rule on it, its fingerprint, a fix).

    A file edited since it was vouched for (its bytes no longer have the expected hash)
    gets its real hash in `digests`, so that whatever is computed from these bytes is
    cached under their own hash, never under the old one, and is listed in `changed`;
    `untrusted` lists those and the files that could not be read, for the next run to
    read again."""

    def __init__(self, root: Path, digests: dict[str, str]):
        self._root, self._digests = root, digests
        self._bytes: dict[str, bytes] = {}
        self._expected: dict[str, str] = {}  # vouched for, not read yet
        self._paths: dict[str, None] = {}  # every path, in the order given (discovery's)
        self.untrusted: set[str] = set()
        self.changed: set[str] = set()

    def __setitem__(self, path: str, source: bytes) -> None:
        self._bytes[path] = source
        self._paths[path] = None

    def later(self, path: str, expected: str) -> None:
        self._expected[path] = expected
        self._paths[path] = None

    def __getitem__(self, path: str) -> bytes:
        try:
            return self._bytes[path]
        except KeyError:
            expected = self._expected.pop(path)  # a KeyError for a path that is not a source
        source = read_source(self._root / path)
        if isinstance(source, ReadProblem):
            from layerguard.facts import unreadable_source

            source = unreadable_source(source.reason)
        actual = content_hash(source)
        if actual != expected:
            self.changed.add(path)
            self.untrusted.add(path)
            self._digests[path] = actual
        self._bytes[path] = source
        return source

    def __contains__(self, path: object) -> bool:
        return path in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._paths))  # reading a file while iterating is allowed

    def __len__(self) -> int:
        return len(self._paths)
