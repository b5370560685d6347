"""`audit --markdown`: GitHub tables and a Mermaid block, user text kept as text."""

from __future__ import annotations

from conftest import copy_fixture, run_cli

HOSTILE = "<img src=x onerror=alert(1)> | *x*"


def markdown(project, *args) -> str:
    result = run_cli("audit", ".", "--markdown", "report.md", *args, cwd=project)
    assert result.exit_code == 0, result.stderr
    return (project / "report.md").read_text()


def test_markdown_has_the_score_tables_and_a_mermaid_graph(tmp_path):
    text = markdown(copy_fixture("audited_shop", tmp_path))
    assert "**Adoption score: 56.2 / 100**" in text
    assert "| billing | 26 | 1 |  |  | 2 |  |  | 3 | 115.38 |" in text
    assert "```mermaid\ngraph LR\n" in text
    assert '-->|"1 FK + 1 imp"|' in text  # billing -> shop


def test_user_text_cannot_open_html_or_end_a_cell(tmp_path):
    project = copy_fixture("audited_shop", tmp_path)
    hostile = project / "shop" / f"{HOSTILE}.py"
    hostile.write_text((project / "shop" / "views.py").read_text())
    text = markdown(project)
    row = next(line for line in text.splitlines() if "onerror" in line)
    assert "<img" not in text
    assert "&lt;img src=x onerror=alert(1)&gt; \\| \\*x\\*" in row
    assert row.count("\\|") == 1  # the name's own pipe, escaped: the row keeps its cells
