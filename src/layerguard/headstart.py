"""semgrep started on the edited files before layerguard's checkers are even imported.

semgrep's start on one file (0.1-0.15 s) is most of a re-check after an edit, and the
normal path could start it only once it had imported its rules, read the tree and
looked up the cache (saleor: 0.1 s in). Every run leaves a plan beside the run records
(runrecord.latest_plan): the root, the rule files and rules key, the files it found and
checked, the exempt globs and the prefilter. A `check` whose run record no longer holds
knows which files changed (their stat identity differs); one with no record of its own
(pre-commit) names its files. `start()` and `start_for_named_files()` start semgrep on
those the plan's run gave semgrep, at once, and the engine adopts the process when it is
the one it would have started (same root, rule files and rules key, and every file it
needs semgrep for given with the bytes the engine read). Anything else, a new file, a
config edit that changes the rules, a file edited again meanwhile, bytes whose matches
are cached, and the process is stopped and the engine starts its own: the head start
never changes a result, only when semgrep began.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SemgrepPlan:
    """What a run gave semgrep, kept beside the run records: enough to start the next one early."""

    root: str  # absolute, as the engine's settings.root
    rule_files: tuple[str, ...]
    rules_key: str
    targets: frozenset[str]  # root-relative paths the run checked
    files: frozenset[str]  # root-relative paths of every file it found (pre-commit names others next time)
    exempt_globs: tuple[str, ...]  # settings.exempt_modules: those never go to semgrep
    cache_enabled: bool
    prefilter: str | None  # semgrep.prefilter_pattern: files without it are not given to semgrep
    # Digests whose matches the run left in the cache: a named file still so needs no semgrep
    # (pre-commit names unchanged files too; starting semgrep to stop it cost 0.04 s).
    matched: frozenset[str] = frozenset()


class HeadStart:
    def __init__(self, plan: SemgrepPlan, cache, digests: dict[str, str], running):
        self.plan, self.cache, self.digests, self.running = plan, cache, digests, running


_STARTED: HeadStart | None = None


def start(changed: list[str]) -> None:
    """semgrep on the files of `changed` (absolute paths whose identity differs from the
    outdated record's) that the latest run checked, with its plan."""
    from layerguard import runrecord

    plan = runrecord.latest_plan()
    if plan is None:
        return
    relative = (_relative(plan, path) for path in changed)
    _start(plan, [path for path in relative if path in plan.targets])


def start_for_named_files(argv: list[str]) -> None:
    """A command line with no record of its own (pre-commit names the staged files, a new
    set each time): semgrep on the files it names that the project's last run found,
    with that run's plan (runrecord.latest_plan)."""
    from layerguard import runrecord

    plan = runrecord.latest_plan()
    if plan is None:
        return
    named = (_relative(plan, os.path.abspath(argument)) for argument in runrecord.named_paths(argv))
    _start(plan, [path for path in named if path in plan.files])


def _relative(plan: SemgrepPlan, absolute: str) -> str | None:
    """The root-relative posix path of `absolute`, None outside the plan's root."""
    prefix = plan.root.rstrip(os.sep) + os.sep
    return absolute[len(prefix):].replace(os.sep, "/") if absolute.startswith(prefix) else None


def _start(plan: SemgrepPlan, relative: list[str]) -> None:
    """semgrep on those of `relative` that are not exempt, pass the prefilter and have
    bytes whose matches the plan's run did not leave cached. The cache itself is loaded
    while semgrep runs (0.04 s on saleor), and stops it if every file's matches turn out
    cached all the same (bytes another run has seen since)."""
    global _STARTED
    if not relative:
        return
    from layerguard.hashes import content_hash

    prefix = plan.root.rstrip(os.sep) + os.sep
    prefilter = re.compile(plan.prefilter.encode("utf-8")) if plan.prefilter is not None else None
    sources, digests = {}, {}
    for path in dict.fromkeys(relative):
        try:
            with open(prefix + path, "rb") as handle:
                source = handle.read()
        except OSError:
            continue  # the engine reports it
        digest = content_hash(source)
        if (prefilter is None or prefilter.search(source)) and digest not in plan.matched:
            sources[path], digests[path] = source, digest
    if not sources:  # (decided before anything is imported: pre-commit on unchanged files)
        return
    from pathlib import Path

    from layerguard.cache import Cache
    from layerguard.globs import PathMatcher
    from layerguard.semgrep import start_semgrep
    from layerguard.semgrep_binary import SemgrepError

    exempt = PathMatcher(plan.exempt_globs)
    sources = {path: source for path, source in sources.items() if not exempt.matches(path)}
    digests = {path: digests[path] for path in sources}
    if not sources:
        return
    try:
        running = start_semgrep([Path(f) for f in plan.rule_files], sources, Path(plan.root))
    except SemgrepError:
        return  # the engine starts it again and reports the error
    cache = Cache(Path(plan.root), enabled=plan.cache_enabled)
    if all(cache.get_matches(digest, plan.rules_key) is not None for digest in digests.values()):
        running.abandon()
        running = None
    _STARTED = HeadStart(plan, cache, digests, running)


def cache_for(root, enabled: bool):
    """The cache the head start loaded for this project, so it is not loaded twice."""
    started = _STARTED
    if started is not None and started.plan.root == str(root) and started.plan.cache_enabled == enabled:
        return started.cache
    return None


def adopt(root, rule_files: list, rules_key: str, needed: dict[str, str]):
    """The running semgrep, if it gives what the engine would start one for: `needed`
    (path -> digest of the bytes the engine read) with the same rules; else None, the
    head start stopped. It may have been given more files (pre-commit names files whose
    matches are cached: they are not known to be so until the cache is loaded)."""
    global _STARTED
    started, _STARTED = _STARTED, None
    if started is None or started.running is None:
        return None
    plan = started.plan
    same = (plan.root == str(root) and plan.rules_key == rules_key
            and plan.rule_files == tuple(str(f) for f in rule_files)
            and set(needed) <= started.running.paths  # more is only more matches, unasked for
            and all(started.digests.get(path) == digest for path, digest in needed.items()))
    if same:
        return started.running
    started.running.abandon()
    return None


def discard() -> None:
    """End of a run: a head start no one adopted is stopped."""
    global _STARTED
    started, _STARTED = _STARTED, None
    if started is not None and started.running is not None:
        started.running.abandon()
