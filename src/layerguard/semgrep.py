"""The one place that starts semgrep.

We run semgrep's OCaml CLI (`semgrep scan --experimental`) by executing the
`semgrep-core` binary from the semgrep wheel under the name `osemgrep`, which is
exactly what the `semgrep` wrapper script does after importing its Python package.
Measured on a 2-core machine: the Python wrapper spends ~2.4 s starting up, the
OCaml CLI ~0.15 s, for identical findings. Network features are off (metrics,
version check) and semgrep's own state files go to a temporary directory, so a
run works offline, never hangs on a closed network and writes nothing of the user's.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path


from layerguard.semgrep_binary import SemgrepError, find_semgrep


def _rules_dir() -> Path:
    """Where the YAML rules are: inside the installed package (the wheel ships the
    repository's top-level rules/ as layerguard/rules/), else in the source checkout
    this module was loaded from (an editable install)."""
    packaged = Path(__file__).parent / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


RULES_DIR = _rules_dir()
# The limits (docs/design.md): the whole run; one rule on one file (semgrep's --timeout,
# default 5 s, too tight for a 2 MB module on a busy CI runner); the largest file given
# to semgrep (its default is 1 MB; 2 MB of real views take ~12 s). A file past the last
# two is an LG900 naming the limit, never a silently clean file.
DEFAULT_TIMEOUT_SECONDS = float(os.environ.get("LAYERGUARD_SEMGREP_TIMEOUT", "600"))
FILE_TIMEOUT_SECONDS = float(os.environ.get("LAYERGUARD_SEMGREP_FILE_TIMEOUT", "30"))
MAX_TARGET_BYTES = int(os.environ.get("LAYERGUARD_SEMGREP_MAX_BYTES", "2000000"))
# The newest Python grammar semgrep reads in full (measured on semgrep 1.185: PEP 695,
# 701 and 758 parse; PEP 696 defaults, PEP 750 t-strings and 3.10's `case {**rest}` do not).
SEMGREP_GRAMMAR = (3, 12)


@dataclass(frozen=True)
class SemgrepMatch:
    check_id: str
    path: str
    start_line: int
    start_offset: int
    end_line: int
    end_offset: int


@dataclass(frozen=True)
class SemgrepRule:
    """One rule of a YAML file: its id, the layerguard code it serves, its message, and
    its prefilter: a regular expression that the bytes of every file it can match contain
    (`layerguard-prefilter` in its metadata), None if it has none."""

    id: str
    code: str
    message: str
    file: Path
    prefilter: str | None = None


def load_rules(rule_file: Path) -> list[SemgrepRule]:
    """The rules of one YAML file. layerguard's own are read once per process, or not at
    all: the engine seeds them from its cache, whose files are of one code version (which
    covers the rules' files), and keeps them there, so that a re-check neither imports
    PyYAML nor parses them (0.01 s)."""
    own = rule_file.parent == RULES_DIR
    if own and rule_file.name in _OWN_RULES:
        return list(_OWN_RULES[rule_file.name])
    import yaml  # only when semgrep runs: a replayed or fully cached run never needs it

    # libyaml's parser where PyYAML was built with it (its wheels are): the pure-Python
    # one took 0.02 s of every run that checks a file.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with rule_file.open(encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=loader)
    rules = tuple(
        SemgrepRule(rule["id"], rule["metadata"]["layerguard-code"], rule["message"].strip(), rule_file,
                    rule["metadata"].get("layerguard-prefilter"))
        for rule in document["rules"]
    )
    if own:
        _OWN_RULES[rule_file.name] = rules
    return list(rules)


# layerguard's own rules as read, by file name (load_rules).
_OWN_RULES: dict[str, tuple[SemgrepRule, ...]] = {}


def known_rules() -> dict[str, tuple[SemgrepRule, ...]]:
    return dict(_OWN_RULES)


def seed_rules(rules: dict[str, tuple[SemgrepRule, ...]]) -> None:
    for name, read in rules.items():
        _OWN_RULES.setdefault(name, read)


def prefilter_pattern(rule_files: list[Path]) -> str | None:
    """One regular expression (for bytes) that a file must contain for any rule of
    `rule_files` to match it; None when a rule has no prefilter (every file may match).

    semgrep prefilters files itself, by the literal strings a rule requires, but learns
    none from `$RECV.$WRITE(...)` with a regex on `$WRITE`, and so parsed and matched
    every file: on saleor, 65% of the non-exempt files contain no such call. The rules
    say what their matches contain, and files without it are never given to semgrep."""
    patterns = []
    for rule_file in rule_files:
        for rule in load_rules(rule_file):
            if rule.prefilter is None:
                return None
            patterns.append(f"(?:{rule.prefilter})")
    return "|".join(patterns) if patterns else None


def run_semgrep(rule_files: list[Path], targets: list[str], cwd: Path,
                timeout: float = DEFAULT_TIMEOUT_SECONDS) -> list[SemgrepMatch]:
    """One semgrep process over `targets` (paths relative to `cwd`) with every rule file."""
    sources = {target: (cwd / target).read_bytes() for target in targets}
    return start_semgrep(rule_files, sources, cwd, timeout).result().matches


@dataclass(frozen=True)
class SemgrepFailure:
    """semgrep skipped a file, or gave up on it or on part of it: its matches are incomplete."""

    path: str
    reason: str
    line: int = 1


@dataclass
class SemgrepResult:
    matches: list[SemgrepMatch]
    failures: dict[str, SemgrepFailure]


class RunningSemgrep:
    """A semgrep process started in the background, so the caller can work meanwhile.

    semgrep reads the tree's regular files where they are, and a copy of the bytes
    layerguard read for anything else (a symlinked file, a lowered copy): a dangling link
    or a loop never reaches it. Should a file vanish before semgrep starts (its run then
    fails: `Invalid scanning root`), the run is repeated over copies of every file.
    """

    def __init__(self, rule_files: list[Path], sources: dict[str, bytes], root: Path | None, timeout: float):
        self._rule_files, self._timeout = rule_files, timeout
        self._sources, self._root = sources, root
        self._started = time.monotonic()
        self._failures: dict[str, SemgrepFailure] = {}
        targets = []
        for path, source in sources.items():
            if len(source) > MAX_TARGET_BYTES:
                self._failures[path] = SemgrepFailure(
                    path, f"semgrep did not read it: {len(source):,} bytes, over its limit of "
                          f"{MAX_TARGET_BYTES:,} (LAYERGUARD_SEMGREP_MAX_BYTES)")
            else:
                targets.append(path)
        self._targets = {path: sources[path] for path in targets}
        self._process = _Process(rule_files, self._targets, root) if targets else None

    @property
    def paths(self) -> set[str]:
        """Every file it was given (those over the size limit included)."""
        return set(self._sources)

    def result(self) -> SemgrepResult:
        if self._process is None:
            return SemgrepResult([], dict(self._failures))
        try:
            matches, failures = self._process.outcome(self._remaining(), self._timeout)
        except SemgrepError as error:
            if "scanning root" not in str(error) or self._root is None:
                raise
            matches, failures = _Process(self._rule_files, self._targets, None).outcome(self._remaining(),
                                                                                       self._timeout)
        retry = {path: failure for path, failure in failures.items() if failure.parse_error}
        if retry:
            matches, failures = self._with_lowered_copies(matches, failures, retry)
        self._failures.update({path: failure.failure for path, failure in failures.items()})
        return SemgrepResult(matches, dict(self._failures))

    def matches(self) -> list[SemgrepMatch]:
        return self.result().matches

    def abandon(self) -> None:
        """Stop the process without waiting for a result no one wants, and remove its files."""
        if self._process is not None:
            self._process.stop()

    def _remaining(self) -> float:
        return max(self._timeout - (time.monotonic() - self._started), 0.1)

    def _with_lowered_copies(self, matches, failures, retry):
        """semgrep's parser lags behind Python's (PEP 696 defaults, t-strings): the files it
        could not parse are given to it again lowered (lowering.py, offsets kept), and
        their matches replace the partial ones."""
        from layerguard.lowering import LoweringError, lower_isolated

        lowered = {}
        for path in retry:
            try:  # isolated: the file may be one that crashes libcst
                result = lower_isolated(self._sources[path], SEMGREP_GRAMMAR, for_semgrep=True)
            except LoweringError:
                continue
            if result.changed:
                lowered[path] = result
        if not lowered:
            return matches, failures
        process = _Process(self._rule_files, {path: result.text.encode("utf-8", "surrogateescape")
                                              for path, result in lowered.items()}, None)
        again, still = process.outcome(self._remaining(), self._timeout)
        kept = [match for match in matches if match.path not in lowered]
        for match in again:
            mapping = lowered[match.path]
            kept.append(replace(match, start_offset=mapping.original_offset(match.start_offset),
                                end_offset=mapping.original_offset(match.end_offset)))
        failures = {path: failure for path, failure in failures.items() if path not in lowered}
        failures.update(still)
        return kept, failures


@dataclass(frozen=True)
class _FileError:
    failure: SemgrepFailure
    parse_error: bool  # a syntax error of semgrep's parser, worth a retry on a lowered copy


class _Process:
    """One semgrep process over `sources`: the regular files under `root` in place (as
    paths relative to it), everything else (or everything, without a root) as copies in
    a temporary directory, which semgrep is given as absolute paths."""

    def __init__(self, rule_files: list[Path], sources: dict[str, bytes], root: Path | None):
        command = find_semgrep()
        executable, arguments = command[0], command[1:]
        argv0 = "osemgrep" if Path(executable).name == "semgrep-core" else executable
        self._state = tempfile.TemporaryDirectory(prefix="layerguard-semgrep-")
        self.targets = list(sources)
        self._snapshot = Path(self._state.name) / "snapshot"
        cwd = root if root is not None else self._snapshot
        arguments_for_targets = []
        try:
            for path, source in sources.items():
                if root is not None and _is_plain_file(root / path):
                    arguments_for_targets.append(path)
                    continue
                copy = self._snapshot / path
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_bytes(source)
                arguments_for_targets.append(str(copy) if root is not None else path)
            self._snapshot.mkdir(exist_ok=True)
        except OSError as error:
            self._state.cleanup()
            raise SemgrepError(f"could not write semgrep's copy of the files to {self._snapshot.parent}: "
                               f"{error.strerror}") from None
        environment = {
            **os.environ,
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
            "SEMGREP_SEND_METRICS": "off",
            "SEMGREP_SETTINGS_FILE": str(Path(self._state.name) / "settings.yml"),
            "SEMGREP_LOG_FILE": str(Path(self._state.name) / "semgrep.log"),
            "SEMGREP_VERSION_CACHE_PATH": str(Path(self._state.name) / "version"),
            "NO_COLOR": "1",
        }
        argv = [
            argv0,
            *arguments,
            "--metrics=off",
            "--disable-version-check",
            "--json",
            "--quiet",
            "--disable-nosem",  # suppressions are layerguard's own comments
            "--no-git-ignore",  # layerguard chooses the files; semgrep must not skip tests/ etc.
            "--x-ignore-semgrepignore-files",
            # The limits, set deliberately (docs/design.md): a file over them is an LG900.
            f"--timeout={FILE_TIMEOUT_SECONDS:g}",
            "--timeout-threshold=1",  # the first rule that times out ends the file: bounded time
            f"--max-target-bytes={MAX_TARGET_BYTES}",
        ]
        for rule_file in rule_files:
            argv += ["--config", str(rule_file)]
        argv += ["--", *arguments_for_targets]
        try:
            self._process = subprocess.Popen(argv, executable=executable, cwd=cwd, env=environment,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError:
            self._state.cleanup()
            raise SemgrepError(f"semgrep could not be started ({executable} not found)") from None

    def _kill(self) -> None:
        # The whole process group: a child left behind would keep the pipes open.
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except OSError:
            self._process.kill()
        self._process.communicate()

    def stop(self) -> None:
        self._kill()
        self._state.cleanup()

    def outcome(self, remaining: float, timeout: float) -> tuple[list[SemgrepMatch], dict[str, _FileError]]:
        try:
            stdout, stderr = self._process.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            self._kill()
            raise SemgrepError(
                f"semgrep did not finish within {timeout:.0f} s (LAYERGUARD_SEMGREP_TIMEOUT)") from None
        finally:
            self._state.cleanup()
        completed = subprocess.CompletedProcess(self._process.args, self._process.returncode, stdout, stderr)
        return _parse_output(completed, self.targets, f"{self._snapshot}{os.sep}")


def start_semgrep(rule_files: list[Path], sources: dict[str, bytes], root: Path | None = None,
                  timeout: float = DEFAULT_TIMEOUT_SECONDS) -> RunningSemgrep:
    """semgrep over `sources` (root-relative path -> the bytes layerguard read)."""
    return RunningSemgrep(rule_files if sources else [], sources if rule_files else {}, root, timeout)


def _is_plain_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _parse_output(completed: subprocess.CompletedProcess, targets: list[str], copies: str = ""
                  ) -> tuple[list[SemgrepMatch], dict[str, _FileError]]:
    """Matches, and what went wrong per file: semgrep's `errors` that name a path, and
    any target missing from `paths.scanned` (skipped without an error). Paths of copies
    (under `copies`) are mapped back to the paths they stand for."""

    def relative(path: str) -> str:
        return path.removeprefix(copies) if copies and path.startswith(copies) else path.removeprefix("./")

    stderr = completed.stderr.decode("utf-8", "replace").strip()
    try:
        output = json.loads(completed.stdout.decode("utf-8", "surrogateescape"))
        results = output["results"]
    except (ValueError, KeyError, TypeError):
        reason = _first_meaningful_line(stderr) or f"exit code {completed.returncode}, no JSON output"
        raise SemgrepError(f"semgrep failed: {reason}") from None
    errors = output.get("errors", [])
    fatal = [error for error in errors if error.get("level") == "error" and not error.get("path")]
    if fatal:
        raise SemgrepError(f"semgrep failed: {str(fatal[0].get('message', fatal[0])).strip()}")
    failures: dict[str, _FileError] = {}
    for error in errors:
        path = error.get("path")
        if path:
            path = relative(path)
            failures.setdefault(path, _file_error(path, error))
    paths = output.get("paths") or {}
    scanned = {relative(path) for path in paths.get("scanned", [])}
    for target in targets if "scanned" in paths else ():
        if target not in scanned and target not in failures:
            skipped = next((entry.get("reason") for entry in paths.get("skipped", [])
                            if relative(str(entry.get("path", ""))) == target), None)
            failures[target] = _FileError(SemgrepFailure(
                target, f"semgrep did not scan it ({skipped or 'no reason given'})"), parse_error=False)
    matches = [
        SemgrepMatch(
            check_id=result["check_id"].rsplit(".", 1)[-1],
            path=relative(result["path"]),
            start_line=result["start"]["line"],
            start_offset=result["start"]["offset"],
            end_line=result["end"]["line"],
            end_offset=result["end"]["offset"],
        )
        for result in results
    ]
    return matches, failures


def _file_error(path: str, error: dict) -> _FileError:
    kind = error.get("type")
    name = kind[0] if isinstance(kind, list) and kind else str(kind or "error")
    message = str(error.get("message", "")).strip().splitlines()
    detail = message[-1].strip() if message else ""
    spans = error.get("spans") or []
    line = spans[0].get("start", {}).get("line", 1) if spans else 1
    if name == "Timeout":
        rule = str(error.get("rule_id", "")).rsplit(".", 1)[-1]
        reason = (f"semgrep gave up on it: rule {rule} took longer than {FILE_TIMEOUT_SECONDS:g} s "
                  f"(LAYERGUARD_SEMGREP_FILE_TIMEOUT)")
        return _FileError(SemgrepFailure(path, reason), parse_error=False)
    if name == "OutOfMemory":
        return _FileError(SemgrepFailure(path, "semgrep ran out of memory on it"), parse_error=False)
    if name in ("PartialParsing", "Syntax error", "Lexical error", "Other syntax error", "Parse error"):
        reason = f"semgrep could not parse line {line}" + (f" ({detail})" if detail else "")
        return _FileError(SemgrepFailure(path, reason, line), parse_error=True)
    reason = f"semgrep failed on it ({name}" + (f": {detail})" if detail else ")")
    return _FileError(SemgrepFailure(path, reason, line), parse_error=False)


def _first_meaningful_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("[") and "WARNING" not in line:
            return line
    return text.splitlines()[0].strip() if text else ""
