"""Measure `check --fix --unsafe-fixes` on a copy of a real project (docs/fixes.md).

    nice -n 10 python scripts/fix_measure.py /work/projects/saleor [--apply]

Copies the project to a temporary directory (the original is never written), then:
fixes offered and refused by rule (from the JSON report's `fix`), the refusal reasons,
the dry-run diff's size; with --apply it applies the fixes to the copy and checks that
every changed file parses, that a second `--fix --dry-run` finds nothing, and how many
of the fixed violations a second check still reports.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "layerguard", *args], cwd=cwd, capture_output=True, text=True)


def main() -> None:
    source = Path(sys.argv[1]).resolve()
    apply = "--apply" in sys.argv
    work = Path(tempfile.mkdtemp(prefix=f"lg-fix-{source.name}-"))
    project = work / source.name
    shutil.copytree(source, project, symlinks=True, ignore=shutil.ignore_patterns(".git", "node_modules"))
    started = time.monotonic()
    report = json.loads(run(["check", "--format", "json", "--exit-zero", "--no-cache"], project).stdout)
    check_seconds = time.monotonic() - started
    offered, refused, reasons = Counter(), Counter(), Counter()
    for violation in report["violations"]:
        if violation["code"] not in ("LG101", "LG202", "LG303"):
            continue
        if violation["fix"] != "none":
            offered[violation["code"]] += 1
        else:
            refused[violation["code"]] += 1
            reasons[re.sub(r"`[^`]*`|line \d+|\S+\.py", "…", violation["fix_note"])] += 1
    started = time.monotonic()
    dry = run(["check", "--fix", "--unsafe-fixes", "--dry-run", "--no-cache"], project)
    dry_seconds = time.monotonic() - started
    not_fixed = [line for line in dry.stderr.splitlines() if line.startswith("layerguard: not fixed")]
    print(f"# {source.name}: check {check_seconds:.1f} s, --fix --dry-run {dry_seconds:.1f} s (exit {dry.returncode})")
    for code in sorted(set(offered) | set(refused)):
        total = offered[code] + refused[code]
        print(f"{code}: {offered[code]} of {total} offered a fix ({100 * offered[code] / total:.0f}%), "
              f"{refused[code]} refused with a reason")
    print(f"diff: {dry.stdout.count(chr(10))} lines, {dry.stdout.count('+++ b/')} files; "
          f"{len(not_fixed)} offered but not applied; {dry.stderr.splitlines()[-1] if dry.stderr else ''}")
    for line in not_fixed[:5]:
        print("  ", line)
    print("refusal reasons:")
    for reason, count in reasons.most_common(12):
        print(f"  {count:5}  {reason}")
    if not apply:
        shutil.rmtree(work)
        return
    before = {p: p.read_bytes() for p in project.rglob("*.py") if p.is_file() and not p.is_symlink()}
    applied = run(["check", "--fix", "--unsafe-fixes", "--no-cache", "--exit-zero"], project)
    changed = [p for p in project.rglob("*.py") if p.is_file() and before.get(p) != p.read_bytes()]
    unparsable = []
    for path in changed:
        try:
            ast.parse(path.read_bytes())
        except SyntaxError as error:
            unparsable.append(f"{path.relative_to(project)}: {error}")
    again = run(["check", "--fix", "--unsafe-fixes", "--dry-run", "--no-cache"], project)
    after = json.loads(run(["check", "--format", "json", "--exit-zero", "--no-cache"], project).stdout)
    left = Counter(v["code"] for v in after["violations"] if v["fix"] != "none")
    print(f"applied: {applied.stderr.splitlines()[-1] if applied.stderr else ''}; {len(changed)} files changed, "
          f"{len(unparsable)} do not parse; second dry run: exit {again.returncode}, "
          f"{again.stdout.count('+++ b/')} files to change; fixable left: {dict(left)}")
    for line in unparsable[:5]:
        print("  ", line)
    before_counts = Counter(v["code"] for v in report["violations"])
    after_counts = Counter(v["code"] for v in after["violations"])
    print("by code before -> after:", {c: f"{before_counts[c]}->{after_counts[c]}"
                                       for c in sorted(set(before_counts) | set(after_counts))})
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
