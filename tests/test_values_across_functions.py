"""LG101 follows values across function boundaries (typemodel/solver.py), through the real
CLI: returns (annotated and not), custom manager and queryset methods, parameters typed
by agreeing call sites, `self.x` attributes and class attribute annotations."""

from __future__ import annotations

from conftest import copy_fixture, run_cli


def _lg101_lines(project):
    result = run_cli("check", "--select", "LG101", "--format", "json", ".", cwd=project)
    assert result.exit_code in (0, 1), result.stderr
    return sorted((v["path"], v["line"]) for v in result.json["violations"])


def test_values_returned_passed_and_stored_are_typed(tmp_path):
    project = copy_fixture("values_across_functions", tmp_path)
    lines = _lg101_lines(project)
    views = [line for path, line in lines if path == "shop/views.py"]
    # ticket = get_ticket() (-> Ticket), maybe_ticket() (-> Optional), board_for() (-> tuple[Board, bool]),
    # basket_for() (returns get_or_create()[0]), a custom queryset method, a manager method
    # annotated with a string, Importer(pk).feed (self.feed set in __init__), request.account.
    assert views == [11, 12, 14, 16, 21, 22, 23, 26]
    helpers = [line for path, line in lines if path == "shop/helpers.py"]
    # import_all(feed): its one call site passes get_object_or_404(Feed, ...); mixed(thing) is
    # called with a Feed and with request.session, so `thing` is unknown (line 22 silent).
    assert helpers == [12, 15, 19, 29]


def test_a_changed_return_re_checks_its_callers(tmp_path):
    project = copy_fixture("values_across_functions", tmp_path)
    assert ("shop/views.py", 11) in _lg101_lines(project)
    helpers = project / "shop" / "helpers.py"
    helpers.write_text(helpers.read_text().replace("def get_ticket(pk) -> Ticket:", "def get_ticket(pk) -> dict:"))
    # A warm run: views.py's bytes did not change, its verdict must.
    assert ("shop/views.py", 11) not in _lg101_lines(project)


def test_show_untyped_lists_the_silent_writes_with_the_reason(tmp_path):
    project = copy_fixture("values_across_functions", tmp_path)
    plain = run_cli("check", "--select", "LG101", "--format", "json", ".", cwd=project)
    assert "untyped" not in plain.json
    result = run_cli("check", "--select", "LG101", "--format", "json", "--show-untyped", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    assert result.json["violations"] == plain.json["violations"]  # the flag changes no verdict
    assert result.json["untyped"] == [{
        "path": "shop/helpers.py", "line": 22, "column": 5, "call": "thing.save()",
        "reason": "`thing` is a parameter without annotation whose call sites do not agree on one model",
    }]
    text = run_cli("check", "--select", "LG101", "--show-untyped", ".", cwd=project)
    assert text.stdout.splitlines()[-2:] == [
        "LG101 stayed silent on 1 write-shaped call it could not type (--show-untyped):",
        "shop/helpers.py:22:5: thing.save(): `thing` is a parameter without annotation whose call sites "
        "do not agree on one model",
    ]
