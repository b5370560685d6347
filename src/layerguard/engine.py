"""Run the rules over the files: discover -> facts -> project model -> checkers -> filters.

Per-file work depends only on the file's bytes (facts, semgrep matches) or on its
bytes and the project's signature (violations), so it is cached by content hash
(cache.py) and the facts of changed files are extracted in parallel. semgrep runs
once per run, in the background while facts are extracted, and only on files whose
matches are not cached; a run where nothing changed starts neither semgrep nor any
parser.
"""

from __future__ import annotations

import gc
import os
import posixpath
import re
import time
from collections import defaultdict
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

from layerguard import __version__, headstart, runrecord
from layerguard.hashes import blake2b
from layerguard import snapshot as tree_snapshot
from layerguard.baseline import BaselineEntry, apply_baseline, entries_for
from layerguard.cache import Cache, content_hash
from layerguard.checkers import selected_rules
from layerguard.checkers.base import FileContext, Rule
from layerguard.config import Settings
from layerguard.deadline import Expired, time_limit
from layerguard.discover import (PathMatcher, ReadProblem, Skipped, discover_files, read_source, select_skipped,
                                 select_targets)
from layerguard.facts import (ModuleFacts, extract_in_worker, extract_with_signature, is_unreadable, remember_lowered,
                              unreadable_source)
from layerguard.filters import apply_suppressions, with_fingerprints
from layerguard.orm import short_code
from layerguard.project import ProjectModel, StoredTables
from layerguard.report import Report
from layerguard.runrecord import Inputs, stat_identity
from layerguard.snapshot import Snapshot, Sources
from layerguard.semgrep import (SemgrepFailure, SemgrepMatch, known_rules, prefilter_pattern, seed_rules,
                                start_semgrep)
from layerguard.typemodel import prepare_shared_indexes
from layerguard.violation import Violation

# Below this many files to parse, worker processes cost more than they save.
PARALLEL_THRESHOLD = 150
# Rules that ask the type model (ORM writes, side effects and reads in views/serializers).
TYPED_RULE_PREFIXES = ("LG1", "LG2", "LG3")
# progress(phase, done, total): "read", "parse", "semgrep" (waiting for it), "rules".
Progress = Callable[[str, int, int], None]


def _no_progress(phase: str, done: int, total: int) -> None:
    pass


# A one-shot `layerguard` process (launch.py sets this to a list) keeps what its last run
# built until the process ends, where the OS takes it back at once, instead of freeing
# millions of facts and model objects one by one when check() returns: 0.3 s of a saleor
# re-check. Only the last run's: the audit's history checks one commit after another.
HOLD_UNTIL_EXIT: list | None = None

# Past this, the rules stop on a file and it is an LG900 saying so (docs/design.md).
FILE_TIMEOUT_SECONDS = float(os.environ.get("LAYERGUARD_FILE_TIMEOUT", "60"))


def build_project(settings: Settings, cache: Cache | None = None, jobs: int | None = None
                  ) -> tuple[ProjectModel, dict[str, bytes]]:
    """Read every project file once and build the project model from their facts."""
    cache = cache or Cache(settings.root, enabled=False)
    sources, digests, _ = _read(settings, discover_files(settings).files)
    facts, _ = _facts(sources, digests, cache, jobs)
    return ProjectModel(settings, facts), sources


def _read(settings: Settings, files: list[str], inputs: Inputs | None = None, snapshot: Snapshot | None = None
          ) -> tuple[Mapping[str, bytes], dict[str, str], list[Skipped]]:
    """Every file's bytes. A file that cannot be read is an LG900 on its path (its bytes
    stand for the reason); one with nothing to read (vanished, a FIFO) is skipped.
    With `inputs`, each file's identity is taken before it is read (runrecord.py); with a
    `snapshot` too, a file whose identity it vouches for keeps its hash and is read only
    when its text is asked for (snapshot.py)."""
    digests: dict[str, str] = {}
    sources: dict[str, bytes] | Sources = Sources(settings.root, digests) if inputs is not None else {}
    skipped: list[Skipped] = []
    root = str(settings.root)
    seen = runrecord.take_seen() if snapshot is not None else {}  # stat'ed by the replay just now
    for path in files:
        if inputs is not None:
            absolute = os.path.join(root, path)
            identity = seen.get(absolute, _NOT_SEEN)
            if identity is _NOT_SEEN:
                try:
                    identity = stat_identity(os.stat(absolute))
                except OSError:
                    identity = None
            known = snapshot.digest_of(absolute, identity) if snapshot is not None else None
            if known is not None:
                sources.later(path, known)
                digests[path] = known
                inputs.files[absolute] = (identity, known)
                continue
        source = read_source(settings.root / path)
        if isinstance(source, ReadProblem):
            if source.skip:
                skipped.append(Skipped(path, source.reason))
                continue
            source = unreadable_source(source.reason)
            if inputs is not None:
                sources.untrusted.add(path)
        sources[path] = source
        digests[path] = content_hash(source)
        if inputs is not None:
            inputs.files[absolute] = (identity, digests[path])
    return sources, digests, skipped


_NOT_SEEN = object()


def _facts(sources: dict[str, bytes], digests: dict[str, str], cache: Cache, jobs: int | None,
           progress: Progress = _no_progress) -> tuple[dict[str, ModuleFacts], dict[str, str]]:
    """Facts and signature of every file: from the cache, else parsed (in parallel)."""
    facts: dict[str, ModuleFacts] = {}
    signatures: dict[str, str] = {}
    misses = []
    for path, digest in digests.items():
        cached = cache.get_facts(digest)
        if cached is None:
            misses.append(path)
        else:  # as stored (ModuleFacts.stored): unpickled only if the run reads it
            facts[path], signatures[path] = ModuleFacts.from_stored(cached), cache.signature(digest)
    workers = jobs or os.cpu_count() or 1
    total = len(digests)
    progress("parse", len(facts), total)
    if workers > 1 and len(misses) >= PARALLEL_THRESHOLD:
        from concurrent.futures import ProcessPoolExecutor  # a run that parses a few files never needs it

        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunk = max(16, len(misses) // (workers * 16))
            results = []
            for path, (file_facts, file_signature, lowered) in zip(misses, pool.map(
                    extract_in_worker, (sources[p] for p in misses), chunksize=chunk)):
                results.append((file_facts, file_signature))
                if lowered is not None:  # the rules parse it again: not lowered twice
                    remember_lowered(sources[path], lowered)
                if len(results) % chunk == 0:
                    progress("parse", total - len(misses) + len(results), total)
    else:
        results = []
        for path in misses:
            results.append(extract_with_signature(sources[path]))
            progress("parse", total - len(misses) + len(results), total)
    for path, (file_facts, file_signature) in zip(misses, results):
        facts[path], signatures[path] = file_facts, file_signature
        cache.put_facts(digests[path], file_facts.stored(), file_signature)
    progress("parse", total, total)
    return facts, signatures


def _signatures_only(digests: dict[str, str], cache: Cache) -> dict[str, str] | None:
    """Every file's signature from the cache's small index, without loading any facts."""
    signatures = {}
    for path, digest in digests.items():
        signature = cache.signature(digest)
        if signature is None:
            return None
        signatures[path] = signature
    return signatures


def _key(*parts: object) -> str:
    return blake2b(repr(parts).encode(), digest_size=16).hexdigest()


RARE_COLLECTION_THRESHOLDS = (100_000, 50, 100)


@contextmanager
def _rare_collections():
    """The cyclic garbage collector run seldom while checking (and in the workers forked
    meanwhile): a run allocates millions of objects that hold no cycles (`ast` trees,
    facts, violations), and by default a collection runs every 700 allocations, a full one
    walking every fact held; on saleor cold that was a fifth of the run's CPU. Memory
    is freed by reference counting as before (peak RSS unchanged)."""
    before = gc.get_threshold()
    gc.set_threshold(*RARE_COLLECTION_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


@_rare_collections()
def check(settings: Settings, paths: list[Path], select: list[str], ignore: list[str],
          baseline: list[BaselineEntry] | None = None, jobs: int | None = None, use_cache: bool = True,
          progress: Progress | None = None, keep_project: bool = False, cache: Cache | None = None,
          show_untyped: bool = False, fixes: bool = True) -> Report:
    """Every selected rule over `paths`. `progress` hears how far each phase is;
    `keep_project` also returns the project model and the files' bytes (the audit);
    `cache` replaces the project's own (the audit's history shares one across commits);
    `show_untyped` also lists the write-shaped calls LG101 could not type (Report.untyped);
    `fixes=False` leaves each violation's fix unassessed (the history only counts them):
    verdicts with their fixes assessed are still reused, the others are cached apart."""
    if HOLD_UNTIL_EXIT is not None and gc.get_freeze_count():
        gc.unfreeze()  # another run in this process (the audit's history): the last one's garbage may go
    if cache is None:
        cache = headstart.cache_for(settings.root, use_cache) or Cache(settings.root, enabled=use_cache)
    seed_rules(cache.get_rules())
    arguments = (settings, paths, select, ignore, baseline, jobs, progress or _no_progress, keep_project, cache,
                 show_untyped, fixes)
    try:
        return _check(*arguments, trust_snapshot=True)
    except _SnapshotOutdated:
        return _check(*arguments, trust_snapshot=False)
    finally:
        headstart.discard()


class _SnapshotOutdated(Exception):
    """A file the tree snapshot vouched for was edited during the run."""


def _check(settings: Settings, paths: list[Path], select: list[str], ignore: list[str],
           baseline: list[BaselineEntry] | None, jobs: int | None, progress: Progress, keep_project: bool,
           cache: Cache, show_untyped: bool, fixes: bool, trust_snapshot: bool) -> Report:
    root = settings.root
    started_ns = time.time_ns()
    listing_key = tree_snapshot.discovery_key(settings)
    snapshot = tree_snapshot.load(cache.snapshot_file) if trust_snapshot and cache.keeps_snapshot else None
    discovery = (snapshot and snapshot.unchanged_discovery(listing_key)) or discover_files(settings)
    progress("read", 0, len(discovery.files))
    inputs = Inputs(directories=dict(discovery.directories))
    for gitignore in discovery.gitignores:
        inputs.add_file(gitignore)
    sources, digests, unread = _read(settings, discovery.files, inputs, snapshot)
    progress("read", len(discovery.files), len(discovery.files))
    files = [path for path in discovery.files if path in sources]
    targets = select_targets(files, settings, paths)
    skipped = select_skipped(sorted([*discovery.skipped, *unread], key=lambda s: s.path), settings, paths)
    rules = [rule() for rule in selected_rules(select, ignore)]
    rule_files = _semgrep_rule_files(rules)
    rules_key = _key(__version__, [(p.name, p.read_bytes()) for p in rule_files])
    # Not the root: the same files under another directory (the audit's history) get the same verdicts.
    settings_key = _key(rules_key, sorted(rule.code for rule in rules),
                        repr(sorted((k, v) for k, v in vars(settings).items() if k != "root")))
    verdicts = _Verdicts(cache, digests, fixes)

    # Fast path: every target's violations cached for this exact project signature.
    signatures = _signatures_only(digests, cache)
    project_key = _key(settings_key, sorted(signatures.items())) if signatures is not None else None
    # A file's verdicts depend on its path too (views.py is a view), not only its bytes.
    cached = {t: verdicts.get(t, project_key) for t in targets} if project_key else {}
    to_check = [t for t in targets if cached.get(t) is None]

    kept: list[Violation] = []
    suppressed: list[Violation] = []
    for target in targets:
        if cached.get(target) is not None:
            kept.extend(cached[target][0])
            suppressed.extend(cached[target][1])
    project = None
    if to_check:
        exempt = PathMatcher(settings.exempt_modules)
        running = _start_semgrep(rule_files, to_check, sources, digests, rules_key, cache, root, exempt.matches)
        facts, signatures = _facts(sources, digests, cache, jobs, progress)
        project_key = _key(settings_key, sorted(signatures.items()))
        # With every signature known now, files whose verdicts still hold are reused:
        # editing one function body re-checks one file.
        still_to_check = []
        for target in to_check:
            result = verdicts.get(target, project_key)
            if result is None:
                still_to_check.append(target)
            else:
                kept.extend(result[0])
                suppressed.extend(result[1])
        to_check = still_to_check
        for target in to_check:
            sources[target]  # the bytes the rules will read (snapshot.py: Sources)
        if sources.changed.intersection(to_check):
            # Edited since the snapshot vouched for it: the facts the model holds for it
            # are of its old bytes. Rare (an edit during the run); start again, reading all.
            if running is not None:
                running[0].abandon()
            raise _SnapshotOutdated
        project = ProjectModel(settings, facts, StoredTables(cache.get_tables(project_key)))
        if _forks(to_check, jobs) and any(rule.code.startswith(TYPED_RULE_PREFIXES) for rule in rules):
            # Once here, not once per forked worker, and while semgrep is still running:
            # the wait for its matches hides most of it (netbox: 0.2 s).
            prepare_shared_indexes(project)
        if running is not None:
            progress("semgrep", 0, 1)
        matches, failures = _matches(running, to_check, digests, rules_key, cache)
        rules_by_id = _rules_by_semgrep_id(rules)
        state = (sources, project, settings, rules, rules_by_id, matches, failures, fixes)
        checked = _check_files(to_check, state, jobs, lambda done: progress("rules", done, len(to_check)))
        for path, (violations, suppressed_here, complete) in zip(to_check, checked):
            # Fingerprinted with the file's bytes at hand, and cached so: a run that takes
            # the verdicts from the cache need not read the file again for them.
            violations = with_fingerprints(violations, sources)
            if complete and path not in failures:  # what did not finish is retried next run
                verdicts.put(path, project_key, (violations, suppressed_here))
            kept.extend(violations)
            suppressed.extend(suppressed_here)
        if project.tables.added:
            cache.put_tables(project_key, project.tables.values)
    if keep_project and project is None:
        project = ProjectModel(settings, _facts(sources, digests, cache, jobs, progress)[0])
    untyped = None
    if show_untyped:
        untyped = _untyped(settings, targets, sources, digests, cache, rules, rule_files, rules_key, jobs)
    cache.put_rules(known_rules())
    cache.save(set(digests.values()))
    _save_snapshot(cache, listing_key, discovery, inputs, sources, str(root), started_ns)
    inputs.semgrep_plan = headstart.SemgrepPlan(str(root), tuple(str(f) for f in rule_files), rules_key,
                                                frozenset(targets), frozenset(files), tuple(settings.exempt_modules),
                                                cache.enabled, prefilter_pattern(rule_files),
                                                frozenset(d for d in digests.values()
                                                          if cache.get_matches(d, rules_key) is not None))
    if HOLD_UNTIL_EXIT is not None:
        HOLD_UNTIL_EXIT[:] = [(cache, project, sources, digests)]
        # Held until the process ends: no collection need walk it again. Else the next
        # one, set off by the reporter's allocations, would (saleor: 0.06 s of 0.3).
        gc.freeze()

    kept = sorted(kept, key=Violation.sort_key)
    entries = entries_for(kept)
    baselined, fixed, known = 0, [], []
    if baseline is not None:
        # Only entries of files this run checked can be fixed (a --diff run looks at few).
        applied = apply_baseline(kept, baseline, set(targets))
        kept, baselined, fixed = applied.kept, applied.baselined, [e.to_json() for e in applied.fixed]
        known = applied.baselined_violations
    display = _display_prefix(root)

    def shown(violations: list[Violation]) -> list[Violation]:
        if display is _same_path:  # run from the root: the paths are already as displayed
            return list(violations)
        return [replace(v, path=display(v.path)) for v in violations]

    return Report(violations=shown(kept), files=len(targets), suppressed=len(suppressed), baselined=baselined,
                  fixed=fixed, checked_paths=[display(t) for t in targets], entries=entries,
                  skipped=[(_display_skipped(display, s.path), s.reason) for s in skipped],
                  suppressed_violations=shown(sorted(suppressed, key=Violation.sort_key)),
                  baselined_violations=shown(known),
                  project=project if keep_project else None, sources=sources if keep_project else {},
                  untyped=[{**u, "path": display(u["path"])} for u in untyped] if untyped is not None else None,
                  inputs=inputs)


def _save_snapshot(cache: Cache, listing_key: str, discovery, inputs: Inputs, sources: Sources, root: str,
                   started_ns: int) -> None:
    """What the next run may trust (snapshot.py): every file as it was hashed, except
    those `sources` names as untrusted; of those, the run record must not vouch for the
    ones edited during the run either."""
    files = {}
    for path in discovery.files:
        absolute = os.path.join(root, path)
        entry = inputs.files.get(absolute)
        if entry is None:
            continue
        if path in sources.changed:
            inputs.files[absolute] = (None, entry[1])
        elif entry[0] is not None and path not in sources.untrusted:
            files[absolute] = entry
    for gitignore in discovery.gitignores:
        if inputs.files.get(gitignore, (None,))[0] is not None:
            files[gitignore] = inputs.files[gitignore]
    if cache.keeps_snapshot:
        tree_snapshot.save(cache.snapshot_file, listing_key, discovery, files, started_ns)


class _Verdicts:
    """A file's cached violations and suppressed violations: keyed by its bytes, its path
    (views.py is a view) and the project key; those cached without their fixes assessed
    are kept apart, and a run that does not assess fixes takes either."""

    def __init__(self, cache: Cache, digests: dict[str, str], fixes: bool):
        self.cache, self.digests, self.fixes = cache, digests, fixes

    def get(self, path: str, project_key: str):
        found = self.cache.get_violations(self.digests[path], f"{path}\0{project_key}")
        if found is None and not self.fixes:
            found = self.cache.get_violations(self.digests[path], f"{path}\0{project_key}\0unassessed-fixes")
        return found

    def put(self, path: str, project_key: str, verdicts: tuple) -> None:
        suffix = "" if self.fixes else "\0unassessed-fixes"
        self.cache.put_violations(self.digests[path], f"{path}\0{project_key}{suffix}", verdicts)


def _untyped(settings, targets, sources, digests, cache, rules, rule_files, rules_key, jobs) -> list[dict]:
    """`--show-untyped`: the write-shaped calls LG101 stayed silent on because it could not
    type their receiver, with the reason. Not cached: a report for people, asked for."""
    rule = next((r for r in rules if r.code == "LG101"), None)
    if rule is None:
        return []
    facts, _ = _facts(sources, digests, cache, jobs)
    project = ProjectModel(settings, facts)
    wanted = [t for t in targets if facts[t].parse_error is None and not project.is_exempt(t)]
    running = _start_semgrep(rule_files, wanted, sources, digests, rules_key, cache, settings.root)
    matches, _ = _matches(running, wanted, digests, rules_key, cache)
    semgrep_rules = {r.id: r for r in rule.semgrep_rules()}
    found = []
    for path in wanted:
        context = None
        for match in matches.get(path, []):
            if match.check_id not in semgrep_rules:
                continue
            context = context or FileContext(path, sources[path], facts[path], project, settings)
            result = rule.untyped(match, semgrep_rules[match.check_id], context)
            if result is not None:
                call, reason = result
                found.append({"path": path, "line": call.lineno, "column": context.column(call.lineno, call.col_offset),
                              "call": f"{short_code(call.func.value)}.{call.func.attr}()", "reason": reason})
    return sorted({(u["path"], u["line"], u["column"]): u for u in found}.values(),
                  key=lambda u: (u["path"], u["line"], u["column"]))


def _semgrep_rule_files(rules: list[Rule]) -> list[Path]:
    files: list[Path] = []
    for rule in rules:
        if rule.semgrep_file and rule.semgrep_path() not in files:
            files.append(rule.semgrep_path())
    return files


def _start_semgrep(rule_files, to_check, sources, digests, rules_key, cache, root, exempt=lambda path: False):
    """semgrep over the files whose matches are not cached, started before parsing;
    none of the `exempt` (asked last: matching a glob costs more than a cache lookup).
    A file that could not be read has no bytes to give it (it is an LG900 already)."""
    if not rule_files:
        return None
    missing = [p for p in to_check if cache.get_matches(digests[p], rules_key) is None
               and not exempt(p) and not is_unreadable(sources[p])]
    prefilter = _prefilter(rule_files)
    if prefilter is not None:
        # A file without what every match contains has none: known without semgrep.
        holding = [p for p in missing if prefilter.search(sources[p])]
        for path in set(missing).difference(holding):
            cache.put_matches(digests[path], rules_key, [])
        missing = holding
    if not missing:
        return None
    started = headstart.adopt(root, rule_files, rules_key, {p: digests[p] for p in missing})
    return (started or start_semgrep(rule_files, {p: sources[p] for p in missing}, root)), missing


@lru_cache(maxsize=8)
def _prefilter_of(pattern: str | None) -> re.Pattern | None:
    return re.compile(pattern.encode("utf-8")) if pattern is not None else None


def _prefilter(rule_files: list[Path]) -> re.Pattern | None:
    return _prefilter_of(prefilter_pattern(rule_files))


def _matches(running, to_check, digests, rules_key, cache
             ) -> tuple[dict[str, list[SemgrepMatch]], dict[str, SemgrepFailure]]:
    """Every file's semgrep matches, and the files semgrep skipped or gave up on: those
    are reported (LG900) and never cached, so that they are not clean next time."""
    found: dict[str, list[SemgrepMatch]] = defaultdict(list)
    failures: dict[str, SemgrepFailure] = {}
    if running is not None:
        process, missing = running
        result = process.result()
        failures = result.failures
        for match in result.matches:
            found[match.path].append(match)
        for path in missing:
            if path not in failures:
                cache.put_matches(digests[path], rules_key, found.get(path, []))
    for path in to_check:
        if path not in found:
            found[path] = cache.get_matches(digests[path], rules_key) or []
    return found, failures


_WORKER_STATE: tuple | None = None


def _check_files(paths: list[str], state: tuple, jobs: int | None, progress: Callable[[int], None] = lambda n: None
                 ) -> list[tuple[list[Violation], list[Violation], bool]]:
    """_check_file over `paths`, in forked workers that inherit the project model (nothing
    large is pickled), in order: the output does not depend on the number of workers."""
    global _WORKER_STATE
    workers = jobs or os.cpu_count() or 1
    results = []
    progress(0)
    if _forks(paths, jobs):
        _WORKER_STATE = state
        # The workers share the parent's heap until they write to it: frozen, a collection
        # in a worker neither walks nor touches (copies) the inherited project model.
        gc.freeze()
        try:
            import multiprocessing

            with multiprocessing.get_context("fork").Pool(workers) as pool:
                chunk = max(8, len(paths) // (workers * 16))
                for result in pool.imap(_check_in_worker, paths, chunksize=chunk):
                    results.append(result)
                    if len(results) % chunk == 0:
                        progress(len(results))
        finally:
            _WORKER_STATE = None
            gc.unfreeze()
    else:
        for path in paths:
            results.append(_check_file(path, *_arguments(path, state)))
            progress(len(results))
    progress(len(results))
    return results


def _forks(paths: list[str], jobs: int | None) -> bool:
    """Whether _check_files runs `paths` in forked workers."""
    workers = jobs or os.cpu_count() or 1
    if workers <= 1 or len(paths) < PARALLEL_THRESHOLD:
        return False
    import multiprocessing  # imported where it is used: a re-check of a few files does not start workers

    return "fork" in multiprocessing.get_all_start_methods()


def _arguments(path: str, state: tuple) -> tuple:
    sources, project, settings, rules, rules_by_id, matches, failures, fixes = state
    return sources[path], project, settings, rules, rules_by_id, matches.get(path, []), failures.get(path), fixes


def _check_in_worker(path: str) -> tuple[list[Violation], list[Violation], bool]:
    return _check_file(path, *_arguments(path, _WORKER_STATE))


def _rules_by_semgrep_id(rules: list[Rule]) -> dict[str, list]:
    # Several rules may share one YAML file (LG202 and LG303 share their patterns).
    by_id = defaultdict(list)
    for rule in rules:
        for semgrep_rule in rule.semgrep_rules():
            by_id[semgrep_rule.id].append((rule, semgrep_rule))
    return by_id


def _check_file(path: str, source: bytes, project: ProjectModel, settings: Settings, rules: list[Rule],
                rules_by_id: dict[str, list], matches: list[SemgrepMatch],
                semgrep_failure: SemgrepFailure | None = None, fixes: bool = True
                ) -> tuple[list[Violation], list[Violation], bool]:
    """Every selected rule on one file, suppressions applied: the unit the cache keeps.

    Returns the violations left, those comments or per-file ignores suppressed, and
    whether every rule ran to the end (an incomplete result is not cached)."""
    facts = project.facts_by_path[path]
    context = FileContext(path, source, facts, project, settings)
    context.semgrep_failure = semgrep_failure
    exempt = project.is_exempt(path)
    found: list[Violation] = []
    current = rules[0] if rules else None
    incomplete = None
    try:
        # One odd file must not hang or end the run: past the limit, or if a rule fails
        # on it, what was found is kept and the file is an LG900 that says so.
        with time_limit(FILE_TIMEOUT_SECONDS):
            for current in rules:
                if facts.parse_error is not None and current.code != "LG900":
                    continue
                if current.skips_exempt_modules and exempt:
                    continue
                found.extend(current.check_file(context))
            if facts.parse_error is None and not exempt and matches:
                for match in matches:
                    for current, semgrep_rule in rules_by_id.get(match.check_id, ()):
                        violation = current.check_match(match, semgrep_rule, context)
                        if violation is not None:
                            found.append(violation)
    except Expired:
        incomplete = f"its rules took longer than {FILE_TIMEOUT_SECONDS:g} s (LAYERGUARD_FILE_TIMEOUT)"
    except Exception as error:
        if os.environ.get("LAYERGUARD_DEBUG"):
            raise
        incomplete = (f"layerguard failed on it in {current.code if current else 'a rule'} "
                      f"({type(error).__name__}: {str(error)[:200]}); please report this")
    parse_error_rule = next((rule for rule in rules if rule.code == "LG900"), None)
    if incomplete is not None and parse_error_rule is not None:
        found.append(parse_error_rule.not_fully_checked(context, incomplete))
    if facts.parse_error is None and found and fixes:
        from layerguard.fixes import assess_fixes  # imported by the first file that has a violation to offer a fix for

        found = assess_fixes(found, context)
    filtered = apply_suppressions(sorted(set(found), key=Violation.sort_key), {path: source}, {path: facts},
                                  settings.per_file_ignores)
    return filtered.kept, filtered.suppressed_violations, incomplete is None


def _display_skipped(display, path: str) -> str:
    return display(path.rstrip("/")) + "/" if path.endswith("/") else display(path)


def _same_path(path: str) -> str:
    return path


def _display_prefix(root: Path):
    """Root-relative path -> relative to the working directory, with "/" separators,
    as the JSON format fixes (the root's own relative path is computed once)."""
    try:
        base = Path(os.path.relpath(root, Path.cwd())).as_posix()
    except ValueError:  # another drive on Windows
        base = root.as_posix()
    if base == ".":
        return _same_path
    if base.split("/")[0] == "..":  # run from inside the root: `views.py`, not `../shop/views.py`
        cwd = Path.cwd()
        return lambda path: Path(os.path.relpath(root / path, cwd)).as_posix()
    return lambda path: posixpath.normpath(f"{base}/{path}")


def fix_plan(settings: Settings, violations: list[Violation], unsafe: bool, jobs: int | None = None,
             use_cache: bool = True, built: tuple[ProjectModel, dict[str, bytes]] | None = None):
    """The edits that fix a report's violations (paths as displayed), with the project
    model and bytes the check `built` (else rebuilt from cached facts); libcst runs only
    on the files being fixed."""
    from layerguard.fixes import plan_fixes

    project, sources = built or build_project(settings, Cache(settings.root, enabled=use_cache), jobs)
    relative = [replace(v, path=_root_relative(settings.root, v.path)) for v in violations]
    return plan_fixes(project, settings, sources, relative, unsafe), sources, relative


def _root_relative(root: Path, displayed: str) -> str:
    return Path(os.path.relpath(os.path.abspath(displayed), root.resolve())).as_posix()


class Workspace:
    """The project kept in memory between checks, for the language server (server.py).

    Built once like a check (every file's facts, from the cache where they are); then
    `update(path, source)` takes an edited buffer: the file's facts are extracted again
    (one `ast` pass), and when its signature (what other files' verdicts can depend on)
    is unchanged, the model swaps them in (ProjectModel.replace_facts) instead of being
    rebuilt; a changed signature rebuilds the model from the facts held in memory, no
    file is read again. `violations(path, matches)` runs every rule on one file;
    `semgrep(path)` returns its matches, cached by content for the text seen before."""

    def __init__(self, settings: Settings, select: list[str], ignore: list[str], use_cache: bool = True):
        self.settings = settings
        self.rules = [rule() for rule in selected_rules(select, ignore)]
        self.rule_files = _semgrep_rule_files(self.rules)
        self.rules_key = _key(__version__, [(p.name, p.read_bytes()) for p in self.rule_files])
        self.rules_by_id = _rules_by_semgrep_id(self.rules)
        self.cache = Cache(settings.root, enabled=use_cache)
        self.sources, self.digests, _ = _read(settings, discover_files(settings).files)
        facts, self.signatures = _facts(self.sources, self.digests, self.cache, None)
        self.cache.save(set(self.digests.values()))
        self.project = ProjectModel(settings, facts)
        self.rebuilds = 0  # how often an edit changed a signature (tests and the latency script read it)

    def update(self, path: str, source: bytes) -> bool:
        """Take a buffer's text; True when anything changed."""
        digest = content_hash(source)
        if self.digests.get(path) == digest:
            return False
        facts, signature = extract_with_signature(source)
        known = path in self.project.facts_by_path
        self.sources[path], self.digests[path] = source, digest
        if known and self.signatures.get(path) == signature:
            self.project.replace_facts(path, facts)
        else:
            self.signatures[path] = signature
            self.project = ProjectModel(self.settings, {**self.project.facts_by_path, path: facts})
            self.rebuilds += 1
        return True

    def needs_semgrep(self, path: str) -> bool:
        return bool(self.rule_files) and not self.project.is_exempt(path) \
            and self.project.facts_by_path[path].parse_error is None

    def cached_matches(self, path: str) -> list[SemgrepMatch] | None:
        if not self.needs_semgrep(path):
            return []
        return self.cache.get_matches(self.digests[path], self.rules_key)

    def scan(self, path: str, source: bytes) -> list[SemgrepMatch] | None:
        """semgrep on one text (a process start, ~0.2 s); touches no state, so it can run
        in a thread while edits go on. None when semgrep gave up on the file."""
        prefilter = _prefilter(self.rule_files)
        if prefilter is not None and not prefilter.search(source):
            return []  # nothing any rule can match: no process to start
        # No root: semgrep reads a copy of these bytes (the buffer), not the file on disk.
        result = start_semgrep(self.rule_files, {path: source}, None).result()
        if path in result.failures:
            return None
        return [m for m in result.matches if m.path == path]

    def remember_matches(self, source: bytes, matches: list[SemgrepMatch]) -> None:
        self.cache.put_matches(content_hash(source), self.rules_key, matches)

    def violations(self, path: str, matches: list[SemgrepMatch]) -> tuple[list[Violation], list[Violation]]:
        """Every selected rule on one file with the given semgrep matches: (kept, suppressed)."""
        kept, suppressed, _ = _check_file(path, self.sources[path], self.project, self.settings, self.rules,
                                          self.rules_by_id, matches)
        return kept, suppressed

    def save_cache(self) -> None:
        self.cache.save(set(self.digests.values()))
