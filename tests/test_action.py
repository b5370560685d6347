"""The GitHub Action's shell steps (action.yml), run for real as a runner runs them.

A composite action's `run:` steps are bash scripts that a runner starts with
`bash --noprofile --norc -eo pipefail` after setting the step's `env:` (its `${{ }}`
expressions evaluated) and the variables GitHub sets on every job. Here the same
scripts run in a workspace prepared as `actions/checkout` leaves it on a pull request
(the PR's merge commit checked out, detached, from a remote `origin`), with
`actions/setup-python` stood in for by a fresh virtualenv: the install step really
installs this checkout into it, and the check step really fetches the base branch,
diffs against it and writes SARIF and annotations.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from conftest import copy_fixture, write_tree

ROOT = Path(__file__).resolve().parent.parent
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create(total=1)\n"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_NOSYSTEM": "1"}
CHECK = "Run layerguard"
NOT_SOURCE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")


def _git(cwd: Path, *arguments: str) -> str:
    return subprocess.run(["git", *arguments], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV, "HOME": str(cwd)}).stdout.strip()


def _expression(expression: str, inputs: dict[str, str], github: dict[str, str]) -> str:
    scope, _, name = expression.strip().partition(".")
    context = {"inputs": inputs, "github": github}.get(scope)
    assert context is not None and name in context, f"this test does not know ${{{{ {expression} }}}}"
    return context[name]


def run_steps(workspace: Path, runner: Path, python_bin: Path, event: dict[str, str], given: dict[str, str],
              action_path: Path, only: str | None = None) -> list[subprocess.CompletedProcess]:
    """The `run:` steps of action.yml, in order, stopping at the first that fails (as a
    runner does); `only`: one step by name. `event`: the GitHub context of the event;
    `given`: the `with:` inputs."""
    inputs = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    unknown = set(given) - set(inputs)
    assert not unknown, f"not inputs of the action: {unknown}"
    inputs.update(given)
    github = {"action_path": str(action_path), "workspace": str(workspace), **event}
    runner.mkdir(exist_ok=True)
    files = {name: runner / name.lower() for name in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH",
                                                      "GITHUB_STEP_SUMMARY", "GITHUB_STATE")}
    for path in files.values():
        path.touch()
    base = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    job_environment = {
        **base, **GIT_ENV, "HOME": str(runner), "CI": "true", "GITHUB_ACTIONS": "true",
        "PATH": f"{python_bin}{os.pathsep}{base['PATH']}",
        "GITHUB_EVENT_NAME": event["event_name"], "GITHUB_BASE_REF": event["base_ref"],
        "GITHUB_HEAD_REF": event["head_ref"], "GITHUB_REF": event["ref"], "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_ACTION_PATH": str(action_path), "GITHUB_REPOSITORY": "acme/shop", "RUNNER_TEMP": str(runner),
        **{name: str(path) for name, path in files.items()},
    }
    completed = []
    for step in ACTION["runs"]["steps"]:
        if "run" not in step:
            assert step["uses"].startswith("actions/setup-python@"), step  # stood in for by the virtualenv
            continue
        assert step["shell"] == "bash"
        if only is not None and step["name"] != only:
            continue
        environment = {**job_environment, **{
            key: re.sub(r"\$\{\{(.*?)\}\}", lambda m: _expression(m.group(1), inputs, github), str(value))
            for key, value in step.get("env", {}).items()}}
        script = runner / "step.sh"
        script.write_text(step["run"])
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                                capture_output=True, text=True, env=environment, timeout=900)
        completed.append(result)
        if result.returncode != 0:
            break
    return completed


@pytest.fixture(scope="module")
def action_python(tmp_path_factory) -> tuple[Path, Path]:
    """What setup-python leaves on the PATH, with the action's install step run in it.

    A fresh virtualenv, whose pip and whose layerguard dependencies (semgrep is large)
    are borrowed from the test environment through a .pth line, so that pip finds them
    installed and installs only layerguard, into this virtualenv; and the action's
    checkout, a copy of this one (building it must not write into the repository)."""
    work = tmp_path_factory.mktemp("action")
    action_path = work / "action"
    shutil.copytree(ROOT, action_path, ignore=NOT_SOURCE)
    venv = work / "python"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=300)
    site_packages = Path(subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    (site_packages / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    assert not (venv / "bin" / "layerguard").exists()
    (install,) = run_steps(work, work / "runner", venv / "bin", {"event_name": "push", "base_ref": "", "head_ref": "",
                                                                 "ref": "refs/heads/main"}, {}, action_path,
                           only="Install layerguard")
    assert install.returncode == 0, install.stdout + install.stderr
    # The install step put layerguard, from the action's checkout, on the PATH.
    assert (venv / "bin" / "layerguard").read_text().startswith(f"#!{venv / 'bin'}")
    located = subprocess.run([str(venv / "bin" / "python"), "-c", "import layerguard; print(layerguard.__file__)"],
                             capture_output=True, text=True, check=True, cwd=work).stdout
    assert located.startswith(site_packages.as_posix()), located
    return venv / "bin", action_path


def _pull_request(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An `origin` where main holds a baselined legacy violation and a feature branch adds a
    new one while main moves on; the workspace holds only the PR's merge commit, fetched
    and checked out detached as actions/checkout does (no local branch, no origin/main)."""
    origin = tmp_path / "origin.git"
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    author = copy_fixture("example_scaffold", tmp_path / "author")
    write_tree(author, {"shop/views.py": VIEW, "shop/signals.py": "", "shop/web.py": ""})
    _git(author, "init", "-q", "-b", "main")
    _git(author, "add", "-A")
    _git(author, "commit", "-q", "-m", "legacy")
    baseline = subprocess.run([sys.executable, "-m", "layerguard", "check", "--write-baseline", "."], cwd=author,
                              capture_output=True, text=True)
    assert baseline.returncode == 0, baseline.stderr
    _git(author, "add", "-A")
    _git(author, "commit", "-q", "-m", "baseline")
    _git(author, "checkout", "-q", "-b", "feature")
    write_tree(author, {"shop/signals.py": VIEW})
    _git(author, "commit", "-q", "-am", "feature: a write in signals.py")
    _git(author, "checkout", "-q", "main")
    write_tree(author, {"shop/web.py": "# main moved on\n"})
    _git(author, "commit", "-q", "-am", "main moves on")
    _git(author, "remote", "add", "origin", str(origin))
    _git(author, "push", "-q", "origin", "main", "feature")
    _git(author, "checkout", "-q", "--detach", "main")
    _git(author, "merge", "-q", "--no-ff", "-m", "Merge feature into main", "feature")
    _git(author, "push", "-q", "origin", "HEAD:refs/pull/1/merge")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    _git(workspace, "init", "-q")
    _git(workspace, "remote", "add", "origin", str(origin))
    _git(workspace, "fetch", "-q", "--no-tags", "origin", "+refs/pull/1/merge:refs/remotes/pull/1/merge")
    _git(workspace, "checkout", "-q", "--detach", "refs/remotes/pull/1/merge")
    event = {"event_name": "pull_request", "base_ref": "main", "head_ref": "feature", "ref": "refs/pull/1/merge"}
    return workspace, event


def test_on_a_pull_request_the_step_fetches_the_base_and_reports_only_the_new_violation(action_python, tmp_path):
    python_bin, action_path = action_python
    workspace, event = _pull_request(tmp_path)
    with pytest.raises(subprocess.CalledProcessError):  # the step must fetch the base itself
        _git(workspace, "rev-parse", "--verify", "-q", "origin/main")
    (check,) = run_steps(workspace, tmp_path / "runner", python_bin, event,
                         {"sarif-file": "layerguard.sarif"}, action_path, only=CHECK)
    assert check.returncode == 1, check.stdout + check.stderr
    # No baseline given: the legacy violation in shop/views.py, which the PR does not
    # touch, is not reported because only the files the PR changed are checked.
    annotations = [line for line in check.stdout.splitlines() if line.startswith("::")]
    assert len(annotations) == 1 and annotations[0].startswith("::error file=shop/signals.py,line=5,col=5,"), check.stdout
    assert "title=LG101::Order.objects.create() writes to the database" in annotations[0]
    sarif = json.loads((workspace / "layerguard.sarif").read_text())
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == [
        ("LG101", "shop/signals.py")]


def test_on_a_push_the_steps_check_the_whole_tree_against_the_baseline(action_python, tmp_path):
    python_bin, action_path = action_python
    workspace, _ = _pull_request(tmp_path)
    _git(workspace, "fetch", "-q", "origin", "main")
    _git(workspace, "checkout", "-q", "--detach", "origin/main")
    push = {"event_name": "push", "base_ref": "", "head_ref": "", "ref": "refs/heads/main"}
    (clean,) = run_steps(workspace, tmp_path / "runner", python_bin, push, {"baseline": ".layerguard-baseline.json"},
                         action_path, only=CHECK)
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stderr
    # Without the baseline the legacy violation fails the push, annotated.
    (failing,) = run_steps(workspace, tmp_path / "runner", python_bin, push, {"args": "--select LG1"}, action_path,
                           only=CHECK)
    assert failing.returncode == 1
    assert failing.stdout.startswith("::error file=shop/views.py,line=5,col=5,"), failing.stdout
    # `args` reach `check`: with LG1 ignored there is nothing left to report.
    (ignored,) = run_steps(workspace, tmp_path / "runner", python_bin, push, {"args": "--ignore LG1"}, action_path,
                           only=CHECK)
    assert (ignored.returncode, ignored.stdout) == (0, "")
