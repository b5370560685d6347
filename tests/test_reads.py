"""Reads belong in selectors (LG204, LG205, LG304): the HackSoft selector case study,
its bad views and its selector rewrite, through the real CLI."""

from __future__ import annotations

from conftest import copy_fixture, run_cli


def _check(project, *codes):
    result = run_cli("check", "--select", ",".join(codes), "--format", "json", ".", cwd=project)
    assert result.exit_code in (0, 1), result.stderr
    return result


def test_case_study_dashboard_reports_each_complex_query_once_where_it_starts(tmp_path):
    project = copy_fixture("selector_case_study", tmp_path)
    result = _check(project, "LG204")
    assert result.found("LG204") == [("LG204", "shop/views.py", 16), ("LG204", "shop/views.py", 24)]
    messages = [v["message"] for v in result.json["violations"]]
    assert all(message.endswith("move it to a selector in shop/selectors.py") for message in messages)
    assert "annotate" in messages[0] and "annotate" in messages[1]


def test_case_study_selector_rewrite_and_plain_lookup_report_nothing(tmp_path):
    project = copy_fixture("selector_case_study", tmp_path)
    result = _check(project, "LG204")
    assert [path for _, path, _ in result.found()] == ["shop/views.py", "shop/views.py"]
    assert all(line != 45 for _, _, line in result.found())  # get_object_or_404 in order_detail


def test_case_study_per_item_get_is_one_n_plus_one_and_the_in_bulk_rewrite_is_silent(tmp_path):
    project = copy_fixture("selector_case_study", tmp_path)
    result = _check(project, "LG205")
    assert result.found("LG205") == [("LG205", "shop/views.py", 36)]
    message = result.json["violations"][0]["message"]
    assert message.startswith("`Product.objects.get(...)` runs a query on every iteration of a loop in a view")
    assert message.endswith("in shop/selectors.py")
