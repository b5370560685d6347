"""Run the rules over the files: discover -> facts -> project model -> checkers -> filters.

Per-file work (reading, facts, turning semgrep matches into violations) depends
only on the file's bytes and the project model, so it can be cached and run in
parallel without changing this pipeline's shape.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from layerguard.baseline import BaselineEntry, apply_baseline, entries_for
from layerguard.checkers import selected_rules
from layerguard.checkers.base import FileContext, Rule
from layerguard.config import Settings
from layerguard.discover import project_files, select_targets
from layerguard.facts import ModuleFacts, extract_facts
from layerguard.filters import apply_suppressions, fingerprints
from layerguard.project import ProjectModel
from layerguard.report import Report
from layerguard.semgrep import run_semgrep
from layerguard.violation import Violation


def build_project(settings: Settings) -> tuple[ProjectModel, dict[str, bytes]]:
    """Read every project file once and build the project model from their facts."""
    sources, facts = _read_and_extract(settings, project_files(settings))
    return ProjectModel(settings, facts), sources


def _read_and_extract(settings: Settings, files: list[str]) -> tuple[dict[str, bytes], dict[str, ModuleFacts]]:
    root = settings.root
    sources: dict[str, bytes] = {}
    facts: dict[str, ModuleFacts] = {}
    for path in files:
        try:
            sources[path] = (root / path).read_bytes()
        except OSError as error:
            sources[path] = b""
            facts[path] = ModuleFacts(parse_error=f"cannot read: {error.strerror}")
            continue
        facts[path] = extract_facts(sources[path])
    return sources, facts


def check(settings: Settings, paths: list[Path], select: list[str], ignore: list[str],
          baseline: list[BaselineEntry] | None = None) -> Report:
    root = settings.root
    project, sources = build_project(settings)
    facts = project.facts_by_path
    targets = select_targets(sorted(facts), settings, paths)
    rules = [rule() for rule in selected_rules(select, ignore)]

    contexts = {path: FileContext(path, sources[path], facts[path], project, settings) for path in targets}
    readable = [path for path in targets if facts[path].parse_error is None]
    violations: list[Violation] = []

    # Python-backed rules and LG900 see every target; the exempt ones skip tests etc.
    for rule in rules:
        for path in targets:
            if facts[path].parse_error is not None and rule.code != "LG900":
                continue
            if rule.skips_exempt_modules and project.is_exempt(path):
                continue
            violations.extend(rule.check_file(contexts[path]))

    violations.extend(_semgrep_violations(rules, readable, project, contexts, root))

    violations = sorted(set(violations), key=Violation.sort_key)
    filtered = apply_suppressions(violations, sources, facts, settings.per_file_ignores)
    kept = filtered.kept
    kept = [replace(v, fingerprint=f) for v, f in zip(kept, fingerprints(kept, sources))]
    entries = entries_for(kept)
    baselined, fixed = 0, []
    if baseline is not None:
        # Only entries of files this run checked can be fixed (a --diff run looks at few).
        applied = apply_baseline(kept, baseline, set(targets))
        kept, baselined, fixed = applied.kept, applied.baselined, [e.to_json() for e in applied.fixed]
    kept = [replace(v, path=_display_path(root / v.path)) for v in kept]
    return Report(violations=kept, files=len(targets), suppressed=filtered.suppressed, baselined=baselined,
                  fixed=fixed, checked_paths=[_display_path(root / t) for t in targets], entries=entries)


def _semgrep_violations(rules: list[Rule], readable: list[str], project: ProjectModel,
                        contexts: dict[str, FileContext], root: Path) -> list[Violation]:
    semgrep_backed = [rule for rule in rules if rule.semgrep_file]
    # Semgrep-backed rules are all about application code: exempt modules feed none.
    targets = [path for path in readable if not project.is_exempt(path)]
    if not semgrep_backed or not targets:
        return []
    # Several rules may share one YAML file (LG202 and LG303 share their patterns).
    rules_by_id: dict[str, list] = defaultdict(list)
    rule_files = []
    for rule in semgrep_backed:
        if rule.semgrep_path() not in rule_files:
            rule_files.append(rule.semgrep_path())
        for semgrep_rule in rule.semgrep_rules():
            rules_by_id[semgrep_rule.id].append((rule, semgrep_rule))
    matches = run_semgrep(rule_files, targets, root)
    by_path = defaultdict(list)
    for match in matches:
        by_path[match.path.removeprefix("./")].append(match)
    violations: list[Violation] = []
    for path, file_matches in sorted(by_path.items()):
        context = contexts.get(path)
        if context is None:
            continue
        for match in file_matches:
            for rule, semgrep_rule in rules_by_id.get(match.check_id, ()):
                violation = rule.check_match(match, semgrep_rule, context)
                if violation is not None:
                    violations.append(violation)
    return violations


def _display_path(path: Path) -> str:
    """Relative to the working directory, with "/" separators, as the JSON format fixes."""
    try:
        return Path(os.path.relpath(path, Path.cwd())).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()

