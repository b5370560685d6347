"""After the checkers: suppression comments, per-file ignores, fingerprints.

Knows nothing of where a violation came from (semgrep or Python)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace

from layerguard.discover import PathMatcher
from layerguard.facts import ModuleFacts
from layerguard.hashes import sha256
from layerguard.violation import Violation

# `# noqa`, `# noqa: LG101`, `# noqa: LG201, LG101`  (a bare `# noqa` suppresses all, as in flake8/ruff)
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.IGNORECASE)
# `# layerguard: ignore`, `# layerguard: ignore[LG101, LG202]`
IGNORE = re.compile(r"#\s*layerguard:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)


@dataclass
class FilterResult:
    kept: list[Violation]
    suppressed_violations: list[Violation]

    @property
    def suppressed(self) -> int:
        return len(self.suppressed_violations)


def _suppressed_codes(line: str) -> set[str] | None:
    """Codes a line's comment suppresses; an empty set means all, None means none."""
    codes: set[str] = set()
    found = False
    for pattern in (IGNORE, NOQA):
        for match in pattern.finditer(line):
            found = True
            listed = match.group("codes")
            if not listed:
                return set()
            codes.update(code.strip().upper() for code in listed.split(",") if code.strip())
    return codes if found else None


def is_suppressed(violation: Violation, lines: list[str], facts: ModuleFacts | None) -> bool:
    candidates = {violation.line}
    if facts is not None:
        candidates.add(facts.statement_start(violation.line))
    for number in candidates:
        if 1 <= number <= len(lines):
            codes = _suppressed_codes(lines[number - 1])
            if codes is not None and (not codes or violation.code in codes):
                return True
    return False


def apply_suppressions(violations: list[Violation], sources: dict[str, bytes],
                       facts: dict[str, ModuleFacts], per_file_ignores: dict[str, list[str]]) -> FilterResult:
    ignore_matchers = [(PathMatcher([glob]), codes) for glob, codes in per_file_ignores.items()]
    lines_cache: dict[str, list[str]] = {}
    kept: list[Violation] = []
    suppressed: list[Violation] = []
    for violation in violations:
        if any(matcher.matches(violation.path) and any(violation.code.startswith(c) for c in codes)
               for matcher, codes in ignore_matchers):
            suppressed.append(violation)
            continue
        if violation.path not in lines_cache:
            lines_cache[violation.path] = sources.get(violation.path, b"").decode("utf-8", "replace").splitlines()
        if violation.code != "LG900" and is_suppressed(violation, lines_cache[violation.path], facts.get(violation.path)):
            suppressed.append(violation)
            continue
        kept.append(violation)
    return FilterResult(kept, suppressed)


def normalised_line(lines: list[str], line: int) -> str:
    text = lines[line - 1] if 1 <= line <= len(lines) else ""
    return " ".join(text.split())


def fingerprints(violations: list[Violation], sources: Mapping[str, bytes]) -> list[str]:
    """code + root-relative path + the offending line's normalised text + occurrence.

    Survives edits that only shift lines; two identical offending lines in one file
    stay distinct through the occurrence counter.
    """
    seen: Counter[tuple[str, str, str]] = Counter()
    lines_of: dict[str, list[str]] = {}  # each file split once, not once per violation
    result = []
    for violation in violations:
        lines = lines_of.get(violation.path)
        if lines is None:
            lines = lines_of[violation.path] = sources.get(violation.path, b"").decode("utf-8", "replace").splitlines()
        key = (violation.code, violation.path, normalised_line(lines, violation.line))
        occurrence = seen[key]
        seen[key] += 1
        digest = sha256("\x1f".join([*key, str(occurrence)]).encode("utf-8")).hexdigest()[:16]
        result.append(digest)
    return result


def with_fingerprints(violations: list[Violation], sources: Mapping[str, bytes]) -> list[Violation]:
    """The violations (of one file, or of several), sorted, each with its fingerprint."""
    ordered = sorted(violations, key=Violation.sort_key)
    return [replace(v, fingerprint=f) for v, f in zip(ordered, fingerprints(ordered, sources))]


def with_paths(violations: list[Violation], to_display: dict[str, str]) -> list[Violation]:
    return [replace(v, path=to_display.get(v.path, v.path)) for v in violations]
