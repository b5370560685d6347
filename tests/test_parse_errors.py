"""A file that does not parse is one LG900, and every other file is still checked."""

from __future__ import annotations

from conftest import copy_fixture, run_cli


def test_each_unreadable_file_is_one_lg900_and_the_rest_is_checked(tmp_path):
    project = copy_fixture("broken_files", tmp_path)
    result = run_cli("check", "--format", "json", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    assert sorted(path for code, path, _ in result.found("LG900")) == [
        "shop/latin1.py", "shop/nul_byte.py", "shop/syntax_error.py",
    ]
    assert ("LG101", "shop/views.py", 5) in result.found("LG101")


def test_newer_python_syntax_is_not_a_parse_error_and_is_checked(tmp_path):
    project = copy_fixture("broken_files", tmp_path)
    result = run_cli("check", "--format", "json", "shop/generics.py", cwd=project)
    assert result.found("LG900") == []
    assert result.found("LG101") == [("LG101", "shop/generics.py", 13)]


def test_python_314_unparenthesized_except_is_not_a_parse_error(tmp_path):
    project = copy_fixture("broken_files", tmp_path)
    result = run_cli("check", "--format", "json", "shop/except_groups.py", cwd=project)
    assert result.found("LG900") == []  # kitsune (requires Python 3.14) had 11 such LG900s
    assert result.found("LG101") == [("LG101", "shop/except_groups.py", 9)]


def test_lg900_names_the_parser_reason_and_line(tmp_path):
    project = copy_fixture("broken_files", tmp_path)
    result = run_cli("check", "--format", "json", "shop/syntax_error.py", cwd=project)
    (violation,) = result.json["violations"]
    assert violation["code"] == "LG900" and violation["line"] == 4
    assert violation["message"].startswith("could not parse this file: ")


def test_lg900_is_reported_even_when_only_other_rules_are_selected(tmp_path):
    project = copy_fixture("broken_files", tmp_path)
    result = run_cli("check", "--select", "LG101", "--format", "json", "shop/syntax_error.py", cwd=project)
    assert result.found("LG900") == [("LG900", "shop/syntax_error.py", 4)]
    assert result.exit_code == 1
