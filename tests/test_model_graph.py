"""LG101 through the type model: the model graph (typemodel/models.py: relations,
reverse accessors, through models, inheritance, the swappable user's contrib relations,
loops, model classes held in variables) and the framework signatures
(typemodel/signatures.py: admin, signal receivers, DRF views and serializers, generic
views, ModelForms). Every line of a fixture marked `# expect` is reported, no other."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import copy_fixture, run_cli


@pytest.mark.parametrize("fixture", ["model_graph", "framework_signatures"])
def test_writes_the_type_model_reaches_are_reported_and_nothing_else(fixture, tmp_path):
    project = copy_fixture(fixture, tmp_path)
    result = run_cli("check", "--select", "LG101", "--format", "json", ".", cwd=project)
    assert result.exit_code == 1, result.stderr
    reported = {(v["path"], v["line"]) for v in result.json["violations"]}
    expected = {
        (str(path.relative_to(project).as_posix()), number)
        for path in sorted(Path(project).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.rstrip().endswith("# expect")
    }
    assert len(expected) > 15
    assert reported == expected
