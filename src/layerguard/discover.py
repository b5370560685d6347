"""Which Python files make up the project, and which of them the user asked to check.

Discovery never fails on the file system: whatever it meets (symlink loops, dangling
links, links to directories, FIFOs, unreadable directories, files that vanish, names
that are not UTF-8) either becomes a file to check, whose read error is then one LG900
on that path, or a `Skipped` entry with its reason, counted in the summary and listed
by `--verbose`. The decision table, and how it follows ruff, is in docs/design.md.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from layerguard.config import Settings
from layerguard.globs import PathMatcher  # noqa: F401 (re-exported: the settings' globs)
from layerguard.runrecord import dir_identity


@dataclass(frozen=True)
class Skipped:
    """A path discovery or reading left out, and why (a directory's path ends with `/`)."""

    path: str
    reason: str


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)  # sorted root-relative posix paths
    skipped: list[Skipped] = field(default_factory=list)
    # What the listing depends on (runrecord.py): each directory walked or seen as a
    # virtualenv, absolute path -> its identity; each `.gitignore` read, absolute path.
    directories: dict[str, tuple] = field(default_factory=dict)
    gitignores: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ReadProblem:
    """Why a discovered file could not be read: `skip` when there is nothing to check
    (it vanished, it is a FIFO), else an LG900 on that path (ruff's E902)."""

    reason: str
    skip: bool


def project_files(settings: Settings) -> list[str]:
    return discover_files(settings).files


def discover_files(settings: Settings) -> Discovery:
    """Every `.py` file under the root that is included and not excluded, as sorted posix paths.

    The whole project feeds the project model (apps, models, base classes), even when
    only a few files are checked, so that a pre-commit run on one file still knows
    which class is a model and which is a view.

    Symlinked directories are not followed (as ruff and git do), so a link back up the
    tree (`a/again -> ..`) cannot loop. A symlinked `.py` file is checked under its own
    path, unless it points to a file that is checked anyway (then once, at the target).
    """
    root = settings.root
    include = PathMatcher(settings.include)
    exclude = PathMatcher([*settings.exclude, *settings.extend_exclude])
    found: list[str] = []
    links: list[str] = []
    skipped: list[Skipped] = []
    seen_directories: set[tuple[int, int]] = set()
    walked: dict[str, tuple] = {}
    gitignores: list[str] = []
    # Each directory carries the gitignore specs that apply to it, from the root down.
    stack: list[tuple[str, str, list[tuple[str, pathspec.GitIgnoreSpec]]]] = [(str(root), "", [])]
    while stack:
        directory, relative_dir, ignores = stack.pop()
        try:
            identity = os.stat(directory)
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            skipped.append(Skipped(_display(relative_dir) or "./", f"directory could not be read: {_reason(error)}"))
            _remember(walked, directory)
            continue
        walked[directory] = dir_identity(identity)
        if (identity.st_dev, identity.st_ino) in seen_directories:  # a bind mount looping back
            continue
        seen_directories.add((identity.st_dev, identity.st_ino))
        ignores = _with_gitignore(directory, relative_dir, ignores, gitignores)
        for entry in entries:
            relative = f"{relative_dir}{entry.name}"
            try:
                is_link = entry.is_symlink()
                is_dir = not is_link and entry.is_dir(follow_symlinks=False)
            except OSError:  # vanished since the listing
                continue
            if is_dir:
                if exclude.matches(relative + "/") or _ignored(relative + "/", ignores):
                    continue
                if not _is_utf8(entry.name):
                    skipped.append(Skipped(_display(relative) + "/", "directory name is not valid UTF-8"))
                elif not _is_virtualenv(entry.path):
                    stack.append((entry.path, relative + "/", ignores))
                else:
                    _remember(walked, entry.path)  # pyvenv.cfg removed: no longer a virtualenv
                continue
            if is_link and not entry.name.endswith(".py"):
                if os.path.isdir(entry.path) and not exclude.matches(relative + "/") \
                        and not _ignored(relative + "/", ignores):
                    skipped.append(Skipped(relative + "/", "symlink to a directory (not followed)"))
                continue
            if not entry.name.endswith(".py"):
                continue
            if not include.matches(relative) or exclude.matches(relative) or _ignored(relative, ignores):
                continue
            if not _is_utf8(entry.name):
                skipped.append(Skipped(_display(relative), "file name is not valid UTF-8"))
            elif is_link:
                links.append(relative)
            elif _is_regular(entry):
                found.append(relative)
            else:
                skipped.append(Skipped(relative, f"not a regular file ({_kind(entry.path)})"))
    if links:
        linked, link_skips = _resolve_links(root, found, links)
        found.extend(linked)
        skipped.extend(link_skips)
    return Discovery(sorted(found), sorted(skipped, key=lambda s: s.path), walked, gitignores)


def _remember(walked: dict[str, tuple], directory: str) -> None:
    try:
        walked[directory] = dir_identity(os.stat(directory))
    except OSError:
        pass


def _resolve_links(root: Path, found: list[str], links: list[str]) -> tuple[list[str], list[Skipped]]:
    """Which symlinked `.py` files to check. A link that cannot be followed (a loop, a
    missing target) is kept: reading it fails, which is an LG900 on the link, as ruff's
    E902. A link to a file already checked is skipped, so one file is checked once."""
    checked: dict[tuple[int, int], str] = {}
    for path in found:
        try:
            status = os.stat(root / path)
            checked[(status.st_dev, status.st_ino)] = path
        except OSError:
            pass
    kept: list[str] = []
    skipped: list[Skipped] = []
    for link in sorted(links):
        try:
            status = os.stat(root / link)
        except OSError:
            kept.append(link)
            continue
        if stat.S_ISDIR(status.st_mode):
            skipped.append(Skipped(link, "symlink to a directory (not followed)"))
        elif not stat.S_ISREG(status.st_mode):
            skipped.append(Skipped(link, f"not a regular file ({_kind(root / link)})"))
        elif (status.st_dev, status.st_ino) in checked:
            skipped.append(Skipped(link, f"symlink to {checked[(status.st_dev, status.st_ino)]}, checked there"))
        else:
            checked[(status.st_dev, status.st_ino)] = link
            kept.append(link)
    return kept, skipped


def read_source(path: Path) -> bytes | ReadProblem:
    """A discovered file's bytes, or why they cannot be had. Never blocks: the file is
    opened non-blocking and read only when it is a regular file (a FIFO would wait for
    a writer forever)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        if os.path.lexists(path):
            return ReadProblem("symlink to a missing file", skip=False)
        return ReadProblem("vanished before it could be read", skip=True)
    except OSError as error:
        if error.errno in (errno.ENXIO, errno.EISDIR):  # a socket; a directory swapped in
            return ReadProblem(f"not a regular file ({_kind(path)})", skip=True)
        return ReadProblem(_reason(error), skip=False)
    try:
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return ReadProblem(f"not a regular file ({_kind(path)})", skip=True)
            return handle.read()
    except OSError as error:
        return ReadProblem(_reason(error), skip=False)


def _with_gitignore(directory: str, relative_dir: str, ignores: list, read: list[str]) -> list:
    path = os.path.join(directory, ".gitignore")
    try:
        with open(path, "rb") as handle:
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:  # none, a directory, unreadable: nothing to ignore
        return ignores
    read.append(path)
    return [*ignores, (relative_dir, pathspec.GitIgnoreSpec.from_lines(lines))]


def _is_virtualenv(directory: str) -> bool:
    try:  # a virtualenv by another name
        return os.path.exists(os.path.join(directory, "pyvenv.cfg"))
    except OSError:
        return False


def _is_regular(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _kind(path) -> str:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return "unknown"
    kinds = ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISDIR, "directory"))
    return next((name for test, name in kinds if test(mode)), "unknown")


def _reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    return error.strerror or type(error).__name__


def _is_utf8(name: str) -> bool:
    """os.scandir decodes undecodable bytes as lone surrogates; such a name cannot be
    written into JSON, SARIF or a baseline as the path it is."""
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _display(relative: str) -> str:
    """A path for messages: undecodable bytes shown as \\xNN escapes."""
    return os.fsencode(relative).decode("utf-8", "backslashreplace") if relative else relative


def _ignored(relative: str, ignores: list[tuple[str, pathspec.GitIgnoreSpec]]) -> bool:
    for base, spec in ignores:
        if relative.startswith(base) and spec.match_file(relative[len(base):]):
            return True
    return False


def select_targets(all_files: list[str], settings: Settings, paths: list[Path]) -> list[str]:
    """The project files the user named (files, or directories meaning everything below them).

    Excludes apply to explicitly named files too (ruff's `force-exclude`), because
    pre-commit passes every staged file by name.
    """
    wanted = _named(settings, paths)
    return [file for file in all_files if wanted(file)]


def select_skipped(skipped: list[Skipped], settings: Settings, paths: list[Path]) -> list[Skipped]:
    """The skipped paths under what the user named: a pre-commit run on one file does not
    hear about a FIFO elsewhere in the tree."""
    wanted = _named(settings, paths)
    return [entry for entry in skipped if wanted(entry.path)]


def resolved_path(path: Path) -> Path:
    """An absolute path without symlinks in its directories. A named directory is
    resolved; a named file is kept as named (a symlinked file means the link, as
    discovery lists it), and a symlink loop raises nothing (Path.resolve raises
    RuntimeError on one before Python 3.13)."""
    absolute = path.absolute()
    try:
        if absolute.is_dir():
            return absolute.resolve()
        return absolute.parent.resolve() / absolute.name
    except (OSError, RuntimeError):
        return Path(os.path.abspath(absolute))


def _named(settings: Settings, paths: list[Path]):
    root = settings.root.resolve()
    wanted_dirs: list[str] = []
    wanted_files: set[str] = set()
    for path in paths:
        resolved = resolved_path(path)
        try:
            relative = resolved.relative_to(root).as_posix()
        except ValueError:
            continue
        if resolved.is_dir():
            wanted_dirs.append("" if relative == "." else relative + "/")
        else:
            wanted_files.add(relative)
    return lambda file: file in wanted_files or any(file.startswith(directory) for directory in wanted_dirs)
