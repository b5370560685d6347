"""The run-level record: an unchanged tree re-checks without reading a single file.

A `layerguard check` run whose command line is eligible (no --write-baseline, --diff,
--no-cache or --fix) leaves one record in the cache directory, keyed by the command
line, the working directory, whether standard output is a terminal, the LAYERGUARD_*
and colour environment variables, and layerguard's code version (its own files and
rules). The record holds what the run printed and its exit status, and every input
the result depends on, each with its identity as git's index keeps it:

- every directory discovery walked, by (mtime_ns, ctime_ns, inode, device): a file
  created, deleted or renamed in it changes its mtime, so a new or vanished file is
  seen without listing the directory again;
- every file read (the `.py` files, each `.gitignore`, the config, the baseline) by
  (size, mtime_ns, ctime_ns, inode), and the hash of the bytes the run read;
- every path whose *absence* mattered (config file names up the tree, the markers
  that place the project root), as absent.

The next run with the same key stats those paths and nothing else: when every
identity matches it prints the stored output (`launch.py`, before click, rich or any
checker is imported). Racy timestamps are handled as git handles them: a file whose
mtime is not older than the record itself may have been changed in the same clock
tick after it was read, so its bytes are hashed and compared; a directory in that
state sends the run down the normal path. Any doubt (a stat error, a corrupt record)
also means the normal path, which then writes a fresh record. The normal path still
uses the content-addressed cache (cache.py) for every file whose identity changed.
"""

from __future__ import annotations

import os
import pickle
import sys

from layerguard import __version__
from layerguard.hashes import blake2b, content_hash

FORMAT = 1
# Options a replay may stand for; anything else (a new option, --fix, --diff) runs normally.
_VALUE_OPTIONS = {"--select", "--ignore", "--format", "--output", "--config", "--baseline", "--jobs", "-j"}
_FLAG_OPTIONS = {"--exit-zero", "--verbose", "-v"}
_ENVIRONMENT = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "CI", "PATH", "PYTHONPATH")


def stat_identity(status: os.stat_result) -> tuple:
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def dir_identity(status: os.stat_result) -> tuple:
    return (status.st_mtime_ns, status.st_ctime_ns, status.st_ino, status.st_dev)


def cache_directory() -> str:
    """LAYERGUARD_CACHE_DIR, else the user cache directory of the OS."""
    override = os.environ.get("LAYERGUARD_CACHE_DIR")
    if override:
        return override
    from platformdirs import user_cache_dir

    return user_cache_dir("layerguard", appauthor=False)


_CODE_VERSION: str | None = None


def _semgrep_stamp() -> tuple | None:
    """The semgrep binary's identity: an upgraded semgrep may match differently, so its
    cached matches and the run records made with it must not be reused."""
    from layerguard.semgrep_binary import SemgrepError, find_semgrep

    try:
        binary = find_semgrep()[0]
        status = os.stat(binary)
    except (SemgrepError, OSError):
        return None
    return binary, status.st_size, status.st_mtime_ns


def code_version() -> str:
    """layerguard's version plus its own files' and rules' sizes and times (an editable
    install whose code changed must not reuse verdicts its older code computed) and the
    semgrep binary's."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        package = os.path.dirname(os.path.abspath(__file__))
        # An editable install keeps the rules at the top of the checkout (semgrep.py's _rules_dir).
        rules = os.path.join(package, "rules")
        if not os.path.isdir(rules):
            rules = os.path.join(os.path.dirname(os.path.dirname(package)), "rules")
        stamps = []
        for base in (package, rules):
            for directory, _, names in os.walk(base):
                for name in names:
                    if name.endswith((".py", ".yaml")):
                        status = os.stat(os.path.join(directory, name))
                        stamps.append((os.path.join(directory, name), status.st_size, status.st_mtime_ns))
        _CODE_VERSION = blake2b(repr((__version__, sorted(stamps), _semgrep_stamp())).encode(),
                                digest_size=8).hexdigest()
    return _CODE_VERSION


def directories_unchanged(directories: dict[str, tuple], before_ns: int) -> bool:
    """Each directory has the identity it had, and an mtime older than `before_ns`: no
    entry was created, deleted or renamed in it since (nor in the same clock tick)."""
    for path, identity in directories.items():
        try:
            status = os.stat(path)
        except OSError:
            return False
        if dir_identity(status) != identity or status.st_mtime_ns >= before_ns:
            return False
    return True


class Inputs:
    """What a result depends on: absolute paths with the identity they had when read.

    `directories`: path -> identity; `files`: path -> (identity, digest), identity None
    when the path could not be stat'ed then; `absent`: paths that did not exist."""

    def __init__(self, directories: dict | None = None):
        self.directories: dict[str, tuple] = directories or {}
        self.files: dict[str, tuple[tuple | None, str | None]] = {}
        self.absent: set[str] = set()
        self.semgrep_plan = None  # headstart.SemgrepPlan, set by the engine, saved apart (save())

    def add_file(self, path: str) -> None:
        """Stat, then read: a change after the stat shows up as a changed identity."""
        try:
            identity = stat_identity(os.stat(path))
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            self.absent.add(path)
            return
        except OSError:
            identity, data = None, b""
        self.files[path] = (identity, content_hash(data))

    def add_optional(self, path: str) -> None:
        if os.path.lexists(path) or os.path.isfile(path):
            self.add_file(path)
        else:
            self.absent.add(path)

    def unchanged(self, written_ns: int) -> bool:
        """Every input as it was (git's rule for racy entries: see the module docstring)."""
        return self.outdated(written_ns) is None

    def outdated(self, written_ns: int, seen: dict | None = None) -> list[str] | None:
        """None when every input is as it was; else the files that changed (changed_files),
        empty when only a directory or an absent path did."""
        changed = self.changed_files(written_ns, seen)
        if changed or not directories_unchanged(self.directories, written_ns) \
                or any(os.path.lexists(path) for path in self.absent):
            return changed
        return None

    def changed_files(self, written_ns: int, seen: dict | None = None) -> list[str]:
        """The files read whose identity (or, racily clean, whose bytes) differs now:
        all of them, not only the first (headstart.py starts semgrep on them). `seen`
        gets each file's identity as stat'ed here (None: it could not be)."""
        changed = []
        for path, (identity, expected) in self.files.items():
            try:
                status = os.stat(path)
            except OSError:
                if seen is not None:
                    seen[path] = None
                if identity is not None:
                    changed.append(path)
                continue
            if seen is not None:
                seen[path] = stat_identity(status)
            if identity is None or stat_identity(status) != identity:
                changed.append(path)
            elif status.st_mtime_ns >= written_ns:  # racily clean: compare the bytes
                try:
                    with open(path, "rb") as handle:
                        if content_hash(handle.read()) != expected:
                            changed.append(path)
                except OSError:
                    changed.append(path)
        return changed


class Record:
    """A run's output (stdout is rich markup for a terminal when `markup`; `output` is
    the --output (path, text)), its exit status, and its inputs."""

    def __init__(self, inputs: Inputs, stdout: str, stderr: str, exit_code: int, markup: bool = False,
                 output: tuple[str, str] | None = None):
        self.inputs, self.stdout, self.stderr, self.exit_code = inputs, stdout, stderr, exit_code
        self.markup, self.output = markup, output


def eligible(argv: list[str]) -> bool:
    """A `check` command line made only of options a replay can stand for."""
    if not argv or argv[0] != "check":
        return False
    expect_value = False
    for argument in argv[1:]:
        if expect_value:
            expect_value = False
            continue
        if argument == "--":
            return False
        if argument.startswith("-"):
            name = argument.split("=", 1)[0]
            if name in _FLAG_OPTIONS:
                continue
            if name in _VALUE_OPTIONS:
                expect_value = "=" not in argument
                continue
            return False
    return not expect_value


def record_key(argv: list[str]) -> str:
    parts = (FORMAT, argv, sys.stdout.isatty(), sys.stderr.isatty(), _place())
    return blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _place() -> tuple:
    """Where and with what a run happens: the working directory, the interpreter, the
    environment that changes results, layerguard's code version."""
    environment = sorted((k, v) for k, v in os.environ.items()
                         if k.startswith("LAYERGUARD_") or k in _ENVIRONMENT)
    return (os.getcwd(), sys.executable, environment, code_version())


def named_paths(argv: list[str]) -> list[str]:
    """The paths an eligible `check` command line names (its arguments that are no option
    nor an option's value)."""
    paths, expect_value = [], False
    for argument in argv[1:]:
        if expect_value:
            expect_value = False
        elif argument.startswith("-"):
            expect_value = argument.split("=", 1)[0] in _VALUE_OPTIONS and "=" not in argument
        else:
            paths.append(argument)
    return paths


def _plan_path() -> str:
    """The semgrep plan (headstart.py) of the latest run from here, whatever it named."""
    key = blake2b(repr((FORMAT, _place())).encode(), digest_size=16).hexdigest()
    return os.path.join(cache_directory(), f"plan-{key}.pickle")


def latest_plan():
    try:
        with open(_plan_path(), "rb") as handle:
            return pickle.load(handle)
    except Exception:  # none yet, corrupt, from another version
        return None


def record_path(key: str) -> str:
    return os.path.join(cache_directory(), f"run-{key}.pickle")


# Set by launch.py when the command line is eligible: the key its record is saved under.
PENDING_KEY: str | None = None


def replay(argv: list[str]) -> int | None:
    """Print a still-valid record's output and return its exit status, else None."""
    global PENDING_KEY, OUTDATED, SEEN
    if not eligible(argv):
        return None
    key = record_key(argv)
    PENDING_KEY = key
    path = record_path(key)
    try:
        written_ns = os.stat(path).st_mtime_ns
        with open(path, "rb") as handle:
            record = pickle.load(handle)
        if not isinstance(record, Record):
            return None
        seen: dict[str, tuple | None] = {}
        changed = record.inputs.outdated(written_ns, seen)
        if changed is not None:
            OUTDATED, SEEN = changed or None, seen
            return None
    except Exception:  # missing, corrupt, from another version: run normally
        return None
    if record.output is not None:
        try:
            with open(record.output[0], "w", encoding="utf-8") as handle:
                handle.write(record.output[1])
        except OSError:
            return None
    if record.stderr:
        sys.stderr.write(record.stderr)
    if record.markup:
        from rich.console import Console

        Console(highlight=False, soft_wrap=True).print(record.stdout, end="")
    elif record.stdout:
        sys.stdout.write(record.stdout)
    sys.stdout.flush()
    return record.exit_code


# Set by replay() when a record no longer holds: the files changed since, for launch.py
# to start semgrep on them at once (headstart.py), and every file's identity as it
# stat'ed them, for the run that follows not to stat them again (take_seen).
OUTDATED: list[str] | None = None
SEEN: dict[str, tuple | None] | None = None


def take_seen() -> dict[str, tuple | None]:
    """The identities replay() saw, once: as if the run had stat'ed each file then, before
    reading it (a file edited since is seen as edited by the next run, as ever)."""
    global SEEN
    seen, SEEN = SEEN, None
    return seen or {}


def save(record: Record) -> None:
    """Atomically, as cache.py writes; a read-only cache directory is not an error."""
    if PENDING_KEY is None:
        return
    # The semgrep plan goes to a file of its own, read only when a record no longer holds:
    # unpickled with every replay, it cost a warm run 0.005 s.
    plan, record.inputs.semgrep_plan = getattr(record.inputs, "semgrep_plan", None), None
    write_atomically(record_path(PENDING_KEY), record)
    if plan is not None:
        write_atomically(_plan_path(), plan)


def write_atomically(path: str, value) -> None:
    """Pickle `value` to `path` through a temporary file renamed over it; a read-only or
    full cache directory is not an error."""
    import tempfile

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=os.path.basename(path), suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass


def forget() -> None:
    """A run that must not be replayed (it failed, or wrote files) removes the record."""
    if PENDING_KEY is None:
        return
    try:
        os.unlink(record_path(PENDING_KEY))
    except OSError:
        pass
