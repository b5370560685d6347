"""Run the rules over the files: discover -> facts -> project model -> checkers -> filters.

Per-file work depends only on the file's bytes (facts, semgrep matches) or on its
bytes and the project's signature (violations), so it is cached by content hash
(cache.py) and the facts of changed files are extracted in parallel. semgrep runs
once per run, in the background while facts are extracted, and only on files whose
matches are not cached; a run where nothing changed starts neither semgrep nor any
parser.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import posixpath
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

from layerguard import __version__
from layerguard.baseline import BaselineEntry, apply_baseline, entries_for
from layerguard.cache import Cache, content_hash
from layerguard.checkers import selected_rules
from layerguard.checkers.base import FileContext, Rule
from layerguard.config import Settings
from layerguard.discover import PathMatcher, project_files, select_targets
from layerguard.facts import ModuleFacts, extract_with_signature
from layerguard.filters import apply_suppressions, fingerprints
from layerguard.project import ProjectModel
from layerguard.report import Report
from layerguard.semgrep import SemgrepMatch, start_semgrep
from layerguard.violation import Violation

# Below this many files to parse, worker processes cost more than they save.
PARALLEL_THRESHOLD = 150


def build_project(settings: Settings, cache: Cache | None = None, jobs: int | None = None
                  ) -> tuple[ProjectModel, dict[str, bytes]]:
    """Read every project file once and build the project model from their facts."""
    cache = cache or Cache(settings.root, enabled=False)
    sources, digests = _read(settings, project_files(settings))
    facts, _ = _facts(sources, digests, cache, jobs)
    return ProjectModel(settings, facts), sources


def _read(settings: Settings, files: list[str]) -> tuple[dict[str, bytes], dict[str, str]]:
    sources: dict[str, bytes] = {}
    for path in files:
        try:
            sources[path] = (settings.root / path).read_bytes()
        except OSError:
            sources[path] = b"\x00unreadable"  # reported as LG900 by the parser
    return sources, {path: content_hash(source) for path, source in sources.items()}


def _facts(sources: dict[str, bytes], digests: dict[str, str], cache: Cache, jobs: int | None
           ) -> tuple[dict[str, ModuleFacts], dict[str, str]]:
    """Facts and signature of every file: from the cache, else parsed (in parallel)."""
    facts: dict[str, ModuleFacts] = {}
    signatures: dict[str, str] = {}
    misses = []
    for path, digest in digests.items():
        cached = cache.get_facts(digest)
        if cached is None:
            misses.append(path)
        else:
            facts[path], signatures[path] = cached, cache.signature(digest)
    workers = jobs or os.cpu_count() or 1
    if workers > 1 and len(misses) >= PARALLEL_THRESHOLD:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunk = max(16, len(misses) // (workers * 4))
            results = list(pool.map(extract_with_signature, (sources[p] for p in misses), chunksize=chunk))
    else:
        results = [extract_with_signature(sources[p]) for p in misses]
    for path, (file_facts, file_signature) in zip(misses, results):
        facts[path], signatures[path] = file_facts, file_signature
        cache.put_facts(digests[path], file_facts, file_signature)
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
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def check(settings: Settings, paths: list[Path], select: list[str], ignore: list[str],
          baseline: list[BaselineEntry] | None = None, jobs: int | None = None, use_cache: bool = True) -> Report:
    root = settings.root
    cache = Cache(root, enabled=use_cache)
    files = project_files(settings)
    sources, digests = _read(settings, files)
    targets = select_targets(files, settings, paths)
    rules = [rule() for rule in selected_rules(select, ignore)]
    rule_files = _semgrep_rule_files(rules)
    rules_key = _key(__version__, [(p.name, p.read_bytes()) for p in rule_files])
    settings_key = _key(rules_key, sorted(rule.code for rule in rules), repr(sorted(vars(settings).items())))

    # Fast path: every target's violations cached for this exact project signature.
    signatures = _signatures_only(digests, cache)
    project_key = _key(settings_key, sorted(signatures.items())) if signatures is not None else None
    # A file's verdicts depend on its path too (views.py is a view), not only its bytes.
    cached = {t: cache.get_violations(digests[t], f"{t}\0{project_key}") for t in targets} if project_key else {}
    to_check = [t for t in targets if cached.get(t) is None]

    kept: list[Violation] = []
    suppressed = 0
    for target in targets:
        if cached.get(target) is not None:
            kept.extend(cached[target][0])
            suppressed += cached[target][1]
    if to_check:
        exempt = PathMatcher(settings.exempt_modules)
        running = _start_semgrep(rule_files, [t for t in to_check if not exempt.matches(t)],
                                 digests, rules_key, cache, root)
        facts, signatures = _facts(sources, digests, cache, jobs)
        project_key = _key(settings_key, sorted(signatures.items()))
        # With every signature known now, files whose verdicts still hold are reused:
        # editing one function body re-checks one file.
        still_to_check = []
        for target in to_check:
            result = cache.get_violations(digests[target], f"{target}\0{project_key}")
            if result is None:
                still_to_check.append(target)
            else:
                kept.extend(result[0])
                suppressed += result[1]
        to_check = still_to_check
        project = ProjectModel(settings, facts)
        matches = _matches(running, to_check, digests, rules_key, cache)
        rules_by_id = _rules_by_semgrep_id(rules)
        state = (sources, project, settings, rules, rules_by_id, matches)
        for path, result in zip(to_check, _check_files(to_check, state, jobs)):
            cache.put_violations(digests[path], f"{path}\0{project_key}", result)
            kept.extend(result[0])
            suppressed += result[1]
    cache.save(set(digests.values()))

    kept = sorted(kept, key=Violation.sort_key)
    kept = [replace(v, fingerprint=f) for v, f in zip(kept, fingerprints(kept, sources))]
    entries = entries_for(kept)
    baselined, fixed = 0, []
    if baseline is not None:
        # Only entries of files this run checked can be fixed (a --diff run looks at few).
        applied = apply_baseline(kept, baseline, set(targets))
        kept, baselined, fixed = applied.kept, applied.baselined, [e.to_json() for e in applied.fixed]
    display = _display_prefix(root)
    kept = [replace(v, path=display(v.path)) for v in kept]
    return Report(violations=kept, files=len(targets), suppressed=suppressed, baselined=baselined,
                  fixed=fixed, checked_paths=[display(t) for t in targets], entries=entries)


def _semgrep_rule_files(rules: list[Rule]) -> list[Path]:
    files: list[Path] = []
    for rule in rules:
        if rule.semgrep_file and rule.semgrep_path() not in files:
            files.append(rule.semgrep_path())
    return files


def _start_semgrep(rule_files, to_check, digests, rules_key, cache, root):
    """semgrep over the files whose matches are not cached, started before parsing."""
    if not rule_files:
        return None
    missing = [p for p in to_check if cache.get_matches(digests[p], rules_key) is None]
    return (start_semgrep(rule_files, missing, root), missing) if missing else None


def _matches(running, to_check, digests, rules_key, cache) -> dict[str, list[SemgrepMatch]]:
    found: dict[str, list[SemgrepMatch]] = defaultdict(list)
    if running is not None:
        process, missing = running
        for match in process.matches():
            found[match.path.removeprefix("./")].append(match)
        for path in missing:
            cache.put_matches(digests[path], rules_key, found.get(path, []))
    for path in to_check:
        if path not in found:
            found[path] = cache.get_matches(digests[path], rules_key) or []
    return found


_WORKER_STATE: tuple | None = None


def _check_files(paths: list[str], state: tuple, jobs: int | None) -> list[tuple[list[Violation], int]]:
    """_check_file over `paths`, in forked workers that inherit the project model (nothing
    large is pickled), in order: the output does not depend on the number of workers."""
    global _WORKER_STATE
    workers = jobs or os.cpu_count() or 1
    if workers > 1 and len(paths) >= PARALLEL_THRESHOLD and "fork" in multiprocessing.get_all_start_methods():
        _WORKER_STATE = state
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return pool.map(_check_in_worker, paths, chunksize=max(8, len(paths) // (workers * 8)))
        finally:
            _WORKER_STATE = None
    return [_check_file(path, *_arguments(path, state)) for path in paths]


def _arguments(path: str, state: tuple) -> tuple:
    sources, project, settings, rules, rules_by_id, matches = state
    return sources[path], project, settings, rules, rules_by_id, matches.get(path, [])


def _check_in_worker(path: str) -> tuple[list[Violation], int]:
    return _check_file(path, *_arguments(path, _WORKER_STATE))


def _rules_by_semgrep_id(rules: list[Rule]) -> dict[str, list]:
    # Several rules may share one YAML file (LG202 and LG303 share their patterns).
    by_id = defaultdict(list)
    for rule in rules:
        for semgrep_rule in rule.semgrep_rules():
            by_id[semgrep_rule.id].append((rule, semgrep_rule))
    return by_id


def _check_file(path: str, source: bytes, project: ProjectModel, settings: Settings, rules: list[Rule],
                rules_by_id: dict[str, list], matches: list[SemgrepMatch]) -> tuple[list[Violation], int]:
    """Every selected rule on one file, suppressions applied: the unit the cache keeps.

    Returns the violations left and how many comments or per-file ignores suppressed."""
    facts = project.facts_by_path[path]
    context = FileContext(path, source, facts, project, settings)
    exempt = project.is_exempt(path)
    found: list[Violation] = []
    for rule in rules:
        if facts.parse_error is not None and rule.code != "LG900":
            continue
        if rule.skips_exempt_modules and exempt:
            continue
        found.extend(rule.check_file(context))
    if facts.parse_error is None and not exempt and matches:
        for match in matches:
            for rule, semgrep_rule in rules_by_id.get(match.check_id, ()):
                violation = rule.check_match(match, semgrep_rule, context)
                if violation is not None:
                    found.append(violation)
    filtered = apply_suppressions(sorted(set(found), key=Violation.sort_key), {path: source}, {path: facts},
                                  settings.per_file_ignores)
    return filtered.kept, filtered.suppressed


def _display_prefix(root: Path):
    """Root-relative path -> relative to the working directory, with "/" separators,
    as the JSON format fixes (the root's own relative path is computed once)."""
    try:
        base = Path(os.path.relpath(root, Path.cwd())).as_posix()
    except ValueError:  # another drive on Windows
        base = root.as_posix()
    if base == ".":
        return lambda path: path
    return lambda path: posixpath.normpath(f"{base}/{path}")
