"""`layerguard audit`: aggregates, score and Martin metrics on a fixture counted by hand.

tests/fixtures/audited_shop, by hand:
- ORM writes: 3 in shop/services.py (create, items.create, save); outside services 3
  (an APIView's order.save(), a serializer's create(), billing's noqa'd create) -> 3/6.
- views: OrderCreate.post, OrderPay.post, OrderPay.get, InvoiceCreate.post; only
  OrderPay.post has an LG2 finding (send_mail, LG201) -> 3/4.
- serializers: OrderSerializer (LG302) and ItemSerializer -> 1/2.
- cross-app references: shop.Order.country -> core and Invoice.country -> core (core is
  allowed), Invoice.order -> shop (LG401) and billing/views.py's import of shop.models
  (LG402) -> 2/4.
- score = 100 x mean(0.5, 0.75, 0.5, 0.5) = 56.25 -> 56.2 (round half to even).
- Martin: billing depends on shop and core (Ca 0, Ce 2, I 1), shop on core (1, 1, 0.5),
  core on nothing (2, 0, 0).
"""

from __future__ import annotations

import json

from conftest import copy_fixture, run_cli


def audit_json(project, *args):
    result = run_cli("audit", ".", "--format", "json", *args, cwd=project)
    assert result.exit_code == 0, result.stderr
    return result.json


def test_score_parts_are_the_hand_counted_shares(tmp_path):
    document = audit_json(copy_fixture("audited_shop", tmp_path))
    parts = {part["name"]: (part["good"], part["total"]) for part in document["audit"]["score"]["parts"]}
    assert parts == {"writes": (3, 6), "views": (3, 4), "serializers": (1, 2), "coupling": (2, 4)}
    assert document["audit"]["score"]["score"] == 56.2


def test_suppressed_findings_are_counted_apart_never_hidden(tmp_path):
    audit = audit_json(copy_fixture("audited_shop", tmp_path))["audit"]
    assert audit["families"]["LG1"] == {"open": 2, "baselined": 0, "suppressed": 1, "total": 3}
    suppressed = [f for f in audit["findings"] if f["status"] == "suppressed"]
    assert [(f["code"], f["path"], f["line"]) for f in suppressed] == [("LG101", "billing/views.py", 11)]


def test_baselined_findings_are_counted_apart(tmp_path):
    project = copy_fixture("audited_shop", tmp_path)
    assert run_cli("check", ".", "--write-baseline", cwd=project).exit_code == 0
    document = audit_json(project)
    families = document["audit"]["families"]
    assert families["LG1"] == {"open": 0, "baselined": 2, "suppressed": 1, "total": 3}
    assert families["LG4"] == {"open": 0, "baselined": 2, "suppressed": 0, "total": 2}
    assert document["violations"] == []  # the SPEC's list: what is still open
    assert document["audit"]["score"]["score"] == 56.2  # the code did not change


def test_findings_per_app_and_density(tmp_path):
    apps = {row["app"]: row for row in audit_json(copy_fixture("audited_shop", tmp_path))["audit"]["apps"]}
    assert apps["billing"]["families"]["LG1"] == 1 and apps["billing"]["families"]["LG4"] == 2
    assert apps["shop"]["families"] == {"LG1": 2, "LG2": 1, "LG3": 1, "LG4": 0, "LG5": 0, "LG9": 0}
    assert apps["core"]["total"] == 0
    # billing: apps.py 5 + models.py 9 + views.py 12 lines; 3 findings
    assert apps["billing"]["lines"] == 26 and apps["billing"]["density_total"] == round(3 / 0.026, 2)


def test_martin_metrics_per_app(tmp_path):
    martin = {m["app"]: (m["ca"], m["ce"], m["instability"])
              for m in audit_json(copy_fixture("audited_shop", tmp_path))["audit"]["martin"]}
    assert martin == {"billing": (0, 2, 1.0), "core": (2, 0, 0.0), "shop": (1, 1, 0.5)}


def test_hotspots_without_git_rank_by_findings(tmp_path):
    hotspots = audit_json(copy_fixture("audited_shop", tmp_path))["audit"]["hotspots"]
    assert hotspots["git"] is False
    assert [(h["path"], h["findings"]) for h in hotspots["files"]] == [
        ("billing/views.py", 2), ("shop/serializers.py", 2), ("shop/views.py", 2), ("billing/models.py", 1)]
    assert [(h["path"], h["name"]) for h in hotspots["functions"]][:2] == [
        ("shop/serializers.py", "OrderSerializer.create"), ("shop/views.py", "OrderPay.post")]


def test_summary_on_a_pipe_is_the_tables_and_nothing_else(tmp_path):
    result = run_cli("audit", ".", cwd=copy_fixture("audited_shop", tmp_path))
    assert result.exit_code == 0
    assert "adoption score 56.2/100" in result.stdout
    assert "Findings per app" in result.stdout and "Martin metrics" in result.stdout
    assert result.stderr == ""  # no progress bar off a terminal
    assert "\x1b[" not in result.stdout


def test_audit_json_keeps_the_check_document(tmp_path):
    project = copy_fixture("audited_shop", tmp_path)
    audit = audit_json(project)
    check = run_cli("check", ".", "--format", "json", cwd=project).json
    assert [v["fingerprint"] for v in audit["violations"]] == [v["fingerprint"] for v in check["violations"]]
    assert audit["summary"]["suppressed"] == check["summary"]["suppressed"] == 1


def test_audit_on_a_bad_config_is_exit_2(tmp_path):
    project = copy_fixture("audited_shop", tmp_path)
    (project / "pyproject.toml").write_text("[tool.layerguard]\nselct = ['LG']\n")
    result = run_cli("audit", ".", cwd=project)
    assert result.exit_code == 2 and "selct" in result.stderr


def test_the_engine_reports_its_progress_phase_by_phase(tmp_path):
    from layerguard.config import load_settings
    from layerguard.checkers import rule_catalog
    from layerguard.engine import check

    project = copy_fixture("audited_shop", tmp_path)
    settings = load_settings(project / "pyproject.toml", project, rule_catalog())
    heard = []
    report = check(settings, [project], ["LG"], [], use_cache=False, keep_project=True,
                   progress=lambda phase, done, total: heard.append((phase, done, total)))
    phases = [phase for phase, _, _ in heard]
    assert phases.index("read") < phases.index("parse") < phases.index("rules")
    assert ("rules", report.files, report.files) in heard
    assert report.project is not None and set(report.sources) == set(report.project.facts_by_path)


def run_on_a_terminal(*args, cwd, env=None):
    """The CLI with standard error on a pseudo-terminal (standard output a pipe), outside CI."""
    import os
    import pty
    import subprocess
    import sys

    primary, secondary = pty.openpty()
    environment = {**os.environ, "CI": "", "TERM": "xterm", "NO_COLOR": "1"}
    environment.pop("PRE_COMMIT", None)
    environment.update(env or {})
    process = subprocess.Popen([sys.executable, "-m", "layerguard", *args], cwd=cwd, stdout=subprocess.PIPE,
                               stderr=secondary, env=environment)
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        output += chunk
    stdout = process.communicate(timeout=300)[0]
    os.close(primary)
    return process.returncode, stdout.decode(), output.decode("utf-8", "replace")


def test_audit_shows_progress_on_a_terminal_only(tmp_path):
    code, stdout, terminal = run_on_a_terminal("audit", ".", "--no-cache", cwd=copy_fixture("audited_shop", tmp_path))
    assert code == 0
    assert "running the rules" in terminal
    assert "running the rules" not in stdout and "adoption score" in stdout


def test_no_progress_under_pre_commit_even_on_its_terminal(tmp_path):
    # pre-commit gives hooks a pseudo-terminal for colours, and sets PRE_COMMIT=1.
    code, stdout, terminal = run_on_a_terminal("audit", ".", "--no-cache", cwd=copy_fixture("audited_shop", tmp_path),
                                               env={"PRE_COMMIT": "1"})
    assert code == 0 and "adoption score" in stdout
    assert "running the rules" not in terminal and "parsing" not in terminal


def test_check_progress_waits_a_second_before_showing(monkeypatch):
    """A warm run ends before the bar would appear; a cold one of a large project shows it."""
    import io

    from layerguard import progress as progress_module

    clock = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(progress_module.sys, "stderr", io.StringIO())
    bar = progress_module.TerminalProgress(delay=1.0, enabled=True)
    bar("read", 10, 10)
    clock[0] += 0.5
    bar("parse", 5, 10)
    assert bar.bar is None  # half a second in: nothing shown
    clock[0] += 0.6
    bar("parse", 8, 10)
    assert bar.bar is not None and set(bar.tasks) == {"read", "parse"}  # what was pending is shown too
    bar.__exit__(None, None, None)


def test_check_off_a_terminal_prints_no_progress(tmp_path):
    result = run_cli("check", ".", "--no-cache", cwd=copy_fixture("audited_shop", tmp_path),
                     env={"CI": ""})
    assert result.exit_code == 1 and result.stderr == ""


def test_a_dependency_is_on_a_cycle_when_both_apps_are_in_one_tangle(tmp_path):
    coupling = audit_json(copy_fixture("tangled_monolith", tmp_path))["audit"]["coupling"]
    on_cycle = {(e["from"], e["to"]): e["in_cycle"] for e in coupling["edges"]}
    assert on_cycle[("billing", "sales")] and on_cycle[("sales", "billing")]
    assert not on_cycle[("sales", "accounts")] and not on_cycle[("accounts", "core")]
    assert coupling["tangles"] == [["billing", "sales"]]


def test_tangles_are_the_groups_of_apps_that_all_reach_each_other():
    from collections import Counter

    from layerguard.graph import CouplingGraph

    edges = {pair: Counter(fk=1) for pair in [("a", "b"), ("b", "c"), ("c", "a"), ("d", "e"), ("e", "d"), ("c", "d")]}
    graph = CouplingGraph(["a", "b", "c", "d", "e", "f"], edges)
    assert graph.tangles() == [["a", "b", "c"], ["d", "e"]]
