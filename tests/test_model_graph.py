"""LG101 through the model graph (typemodel/models.py): relations, reverse accessors,
through models, inheritance, the swappable user's contrib relations, loops and model
classes held in variables. Every line of the fixture marked `# expect` is reported,
and no other."""

from __future__ import annotations

from pathlib import Path

from conftest import copy_fixture, run_cli


def test_writes_reached_through_the_model_graph_are_reported(tmp_path):
    project = copy_fixture("model_graph", tmp_path)
    result = run_cli("check", "--select", "LG101", "--format", "json", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    reported = {(v["path"], v["line"]) for v in result.json["violations"]}
    expected = {
        (str(path.relative_to(project).as_posix()), number)
        for path in sorted(Path(project).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.rstrip().endswith("# expect")
    }
    assert len(expected) > 20
    assert reported == expected
