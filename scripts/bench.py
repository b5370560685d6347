"""Benchmark layerguard against its floors, on real projects. Not part of the test suite.

    python scripts/bench.py PROJECT_DIR [PROJECT_DIR ...]

For each project, in one run: files and lines; the floors (read + hash every .py file,
single-process `ast.parse` of every file, semgrep alone with layerguard's YAML rules on
every file and on the files layerguard gives it, `python -c "import layerguard"`); then
layerguard cold (--no-cache, default jobs and --jobs 1), warm (second run with the
cache), after touching one file and after undoing that, for a file semgrep need not scan
and for one it must (medians of 3, the latter beside semgrep started on that file alone),
pre-commit on 3 files in a warm project (as they are, then each edited), and peak
memory; each as a ratio to its floor.
Each project is benchmarked on a temporary copy, so touching a file never writes to it.
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from layerguard.config import Settings
from layerguard.discover import PathMatcher, project_files
from layerguard.semgrep import RULES_DIR, prefilter_pattern, run_semgrep

LAYERGUARD = [sys.executable, "-m", "layerguard"]
REPEATS = 3  # the quick measures (warm, one file touched, undone) are medians of this many runs


def timed(command: list[str], cwd: Path, environment: dict) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one command, as the OS accounts for it."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss // 1024


def _timed_call(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def bench(original_project: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="layerguard-bench-copy-") as copy:
        project = Path(copy) / original_project.resolve().name
        shutil.copytree(original_project, project, ignore=shutil.ignore_patterns(".git", "node_modules"))
        _bench(project, label=original_project)


def _bench(project: Path, label: Path) -> None:
    settings = Settings(root=project.resolve())
    files = project_files(settings)
    exempt = PathMatcher(settings.exempt_modules)
    checked = [f for f in files if not exempt.matches(f)]

    start = time.perf_counter()
    for f in files:
        os.stat(settings.root / f)
    stat_floor = time.perf_counter() - start

    start = time.perf_counter()
    sources = {f: (settings.root / f).read_bytes() for f in files}
    for source in sources.values():
        hashlib.blake2b(source, digest_size=16).hexdigest()
    read_hash = time.perf_counter() - start
    lines = sum(source.count(b"\n") for source in sources.values())

    start = time.perf_counter()
    for source in sources.values():
        try:
            ast.parse(source)
        except (SyntaxError, ValueError):
            pass
    ast_floor = time.perf_counter() - start

    rule_files = sorted(RULES_DIR.glob("*.yaml"))
    semgrep_floor = _timed_call(lambda: run_semgrep(rule_files, files, settings.root))
    # The files layerguard gives semgrep: not exempt, and holding what a rule's prefilter asks.
    prefilter = re.compile(prefilter_pattern(rule_files).encode())
    scanned = [f for f in checked if prefilter.search(sources[f])]
    semgrep_given = _timed_call(lambda: run_semgrep(rule_files, scanned, settings.root))

    with tempfile.TemporaryDirectory(prefix="layerguard-bench-") as cache:
        environment = {**os.environ, "LAYERGUARD_CACHE_DIR": cache}
        startup, _ = timed([sys.executable, "-c", "import layerguard.cli"], project, environment)
        python_floor, _ = timed([sys.executable, "-c", "pass"], project, environment)
        check = [*LAYERGUARD, "check", "--exit-zero", "--format", "json", "--output", os.devnull]
        cold, cold_rss = timed([*check, "--no-cache", "."], project, environment)
        cold_one_job, _ = timed([*check, "--no-cache", "--jobs", "1", "."], project, environment)
        timed([*check, "."], project, environment)  # fills the cache
        warm_runs = [timed([*check, "."], project, environment) for _ in range(REPEATS)]
        warm, warm_rss = median([t for t, _ in warm_runs]), max(rss for _, rss in warm_runs)
        # Two files touched in turn: the middle file of the tree, and the middle one of those
        # semgrep must scan (a call a rule could match: the rules' prefilter passes it).
        touches = []
        for touched_path in (checked[len(checked) // 2], scanned[len(scanned) // 2]):
            touched_file = settings.root / touched_path
            original = touched_file.read_bytes()
            touched_runs, restored_runs = [], []
            for attempt in range(REPEATS):  # a new edit each time: none of them is cached
                touched_file.write_bytes(original + f"\n# layerguard benchmark touch {attempt}\n".encode())
                touched_runs.append(timed([*check, "."], project, environment)[0])
                touched_file.write_bytes(original)
                restored_runs.append(timed([*check, "."], project, environment)[0])  # the edit undone
            # What a run that scans the edited file cannot go below: semgrep's start on it alone.
            semgrep_one = median([_timed_call(lambda: run_semgrep(rule_files, [touched_path], settings.root))
                                  for _ in range(REPEATS)])
            touches.append((touched_path, bool(prefilter.search(original)), median(touched_runs),
                            median(restored_runs), semgrep_one))
        # pre-commit's staged files: three modules (not test targets or migrations) from the
        # middle of the tree, as they are since the last run, then each edited.
        middle = [f for f in checked if "/migrations/" not in f and "/tests/" not in f and not f.startswith(".")]
        staged = middle[len(middle) // 3:][:3]
        precommit, _ = timed([*check, *staged], project, environment)
        originals = {f: (settings.root / f).read_bytes() for f in staged}
        for f, source in originals.items():
            (settings.root / f).write_bytes(source + b"\n# layerguard benchmark staged edit\n")
        precommit_edited, _ = timed([*check, *staged], project, environment)
        for f, source in originals.items():
            (settings.root / f).write_bytes(source)

    base = startup + read_hash
    stat_base = python_floor + stat_floor
    warm_target = max(0.25, 2.5 * stat_base)
    rows = [
        ("files / lines", f"{len(files)} / {lines}", ""),
        ("floor: read + hash", f"{read_hash:.2f} s", ""),
        ("floor: ast.parse, 1 process", f"{ast_floor:.2f} s", ""),
        ("floor: semgrep alone, layerguard's YAML, every file", f"{semgrep_floor:.2f} s", ""),
        (f"floor: semgrep alone on the {len(scanned)} files layerguard gives it", f"{semgrep_given:.2f} s",
         f"not exempt, and the rules' prefilter passes them ({len(checked)} not exempt)"),
        ("floor: python -c 'import layerguard.cli'", f"{startup:.2f} s", ""),
        ("floor: python -c pass + stat of every file", f"{python_floor:.3f} + {stat_floor:.3f} s", ""),
        ("cold (--no-cache), default jobs", f"{cold:.2f} s",
         f"{cold / ast_floor:.1f}x ast.parse (target <= 3x); {cold / semgrep_floor:.2f}x semgrep alone"),
        ("cold, --jobs 1", f"{cold_one_job:.2f} s", f"default jobs is {cold_one_job / cold:.2f}x faster"),
        ("warm (unchanged tree)", f"{warm:.2f} s",
         f"{warm / stat_base:.1f}x (python -c pass + stat); target <= {warm_target:.2f} s: "
         f"{'met' if warm <= warm_target else 'missed'}"),
    ]
    for touched_path, needs_semgrep, touched, restored, semgrep_one in touches:
        kind = "semgrep scans it" if needs_semgrep else "no call a rule could match: no semgrep"
        rows += [
            (f"one file touched: {touched_path} ({kind})", f"{touched:.2f} s",
             f"{touched / warm:.1f}x warm (target <= 1.5x)"
             + (f"; {touched / semgrep_one:.1f}x semgrep alone on it ({semgrep_one:.2f} s, "
                f"{semgrep_one / warm:.1f}x warm)" if needs_semgrep else "")),
            ("the edit undone", f"{restored:.2f} s", f"{restored / warm:.1f}x warm"),
        ]
    rows += [
        ("pre-commit: 3 files, unchanged since the last run", f"{precommit:.2f} s",
         f"{precommit / warm:.1f}x warm (target <= 1.5x)"),
        (f"pre-commit: 3 files, each edited ({sum(f in scanned for f in staged)} scanned by semgrep)",
         f"{precommit_edited:.2f} s",
         f"{precommit_edited / warm:.1f}x warm (target <= 1.5x)"),
        ("peak RSS cold / warm", f"{cold_rss} / {warm_rss} MiB", "target < 1 GB"),
    ]
    print(f"\n## {label}\n")
    print("| measure | value | ratio |\n|---|---|---|")
    for name, value, ratio in rows:
        print(f"| {name} | {value} | {ratio} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    print(f"# layerguard benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    for argument in sys.argv[1:]:
        bench(Path(argument))
