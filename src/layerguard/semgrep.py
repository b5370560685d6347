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

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml


def _rules_dir() -> Path:
    """Where the YAML rules are: inside the installed package (the wheel ships the
    repository's top-level rules/ as layerguard/rules/), else in the source checkout
    this module was loaded from (an editable install)."""
    packaged = Path(__file__).parent / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "rules"


RULES_DIR = _rules_dir()
DEFAULT_TIMEOUT_SECONDS = float(os.environ.get("LAYERGUARD_SEMGREP_TIMEOUT", "600"))


class SemgrepError(Exception):
    """semgrep is missing, crashed, timed out or printed something we cannot read."""


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
    """One rule of a YAML file: its id, the layerguard code it serves and its message."""

    id: str
    code: str
    message: str
    file: Path


def load_rules(rule_file: Path) -> list[SemgrepRule]:
    with rule_file.open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    return [
        SemgrepRule(rule["id"], rule["metadata"]["layerguard-code"], rule["message"].strip(), rule_file)
        for rule in document["rules"]
    ]


def find_semgrep() -> list[str]:
    """The command that starts the OCaml CLI: semgrep-core as `osemgrep`, else the wrapper."""
    override = os.environ.get("LAYERGUARD_SEMGREP")
    if override:
        return [override, "scan", "--experimental"]
    spec = importlib.util.find_spec("semgrep")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            core = Path(location) / "bin" / "semgrep-core"
            if core.is_file() and os.access(core, os.X_OK):
                return [str(core), "scan", "--experimental"]
    for candidate in (Path(sys.executable).parent / "semgrep", shutil.which("semgrep")):
        if candidate and Path(candidate).is_file():
            return [str(candidate), "scan", "--experimental"]
    raise SemgrepError("semgrep is not installed; install layerguard with its dependencies (pip install layerguard)")


def run_semgrep(rule_files: list[Path], targets: list[str], cwd: Path,
                timeout: float = DEFAULT_TIMEOUT_SECONDS) -> list[SemgrepMatch]:
    """One semgrep process over `targets` (paths relative to `cwd`) with every rule file."""
    return start_semgrep(rule_files, targets, cwd, timeout).matches()


class RunningSemgrep:
    """A semgrep process started in the background, so the caller can work meanwhile."""

    def __init__(self, process: subprocess.Popen | None, state: tempfile.TemporaryDirectory | None,
                 timeout: float, executable: str):
        self._process, self._state, self._timeout, self._executable = process, state, timeout, executable
        self._started = time.monotonic()

    def matches(self) -> list[SemgrepMatch]:
        if self._process is None:
            return []
        remaining = max(self._timeout - (time.monotonic() - self._started), 0.1)
        try:
            stdout, stderr = self._process.communicate(timeout=remaining)
        except subprocess.TimeoutExpired:
            # The whole process group: a child left behind would keep the pipes open.
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except OSError:
                self._process.kill()
            self._process.communicate()
            raise SemgrepError(
                f"semgrep did not finish within {self._timeout:.0f} s (LAYERGUARD_SEMGREP_TIMEOUT)") from None
        finally:
            if self._state is not None:
                self._state.cleanup()
        return _parse_output(subprocess.CompletedProcess(self._process.args, self._process.returncode, stdout, stderr))


def start_semgrep(rule_files: list[Path], targets: list[str], cwd: Path,
                  timeout: float = DEFAULT_TIMEOUT_SECONDS) -> RunningSemgrep:
    if not rule_files or not targets:
        return RunningSemgrep(None, None, timeout, "")
    command = find_semgrep()
    executable, arguments = command[0], command[1:]
    argv0 = "osemgrep" if Path(executable).name == "semgrep-core" else executable
    state = tempfile.TemporaryDirectory(prefix="layerguard-semgrep-")
    environment = {
        **os.environ,
        "SEMGREP_ENABLE_VERSION_CHECK": "0",
        "SEMGREP_SEND_METRICS": "off",
        "SEMGREP_SETTINGS_FILE": str(Path(state.name) / "settings.yml"),
        "SEMGREP_LOG_FILE": str(Path(state.name) / "semgrep.log"),
        "SEMGREP_VERSION_CACHE_PATH": str(Path(state.name) / "version"),
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
        "--timeout=30",
    ]
    for rule_file in rule_files:
        argv += ["--config", str(rule_file)]
    argv += ["--", *targets]
    try:
        process = subprocess.Popen(argv, executable=executable, cwd=cwd, env=environment, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    except OSError:
        state.cleanup()
        raise SemgrepError(f"semgrep could not be started ({executable} not found)") from None
    return RunningSemgrep(process, state, timeout, executable)


def _parse_output(completed: subprocess.CompletedProcess) -> list[SemgrepMatch]:
    stderr = completed.stderr.decode("utf-8", "replace").strip()
    try:
        output = json.loads(completed.stdout)
        results = output["results"]
    except (ValueError, KeyError, TypeError):
        reason = _first_meaningful_line(stderr) or f"exit code {completed.returncode}, no JSON output"
        raise SemgrepError(f"semgrep failed: {reason}") from None
    fatal = [error for error in output.get("errors", []) if error.get("level") == "error" and not error.get("path")]
    if fatal:
        raise SemgrepError(f"semgrep failed: {fatal[0].get('message', fatal[0]).strip()}")
    return [
        SemgrepMatch(
            check_id=result["check_id"].rsplit(".", 1)[-1],
            path=result["path"],
            start_line=result["start"]["line"],
            start_offset=result["start"]["offset"],
            end_line=result["end"]["line"],
            end_offset=result["end"]["offset"],
        )
        for result in results
    ]


def _first_meaningful_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("[") and "WARNING" not in line:
            return line
    return text.splitlines()[0].strip() if text else ""
