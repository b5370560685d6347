"""LG203 counts complexity exactly as the `mccabe` package (flake8's C901) does."""

from __future__ import annotations

import ast
from pathlib import Path

import mccabe
import pytest

from layerguard.checkers.complexity import cyclomatic_complexity

SHAPES = Path(__file__).parent / "fixtures" / "complexity" / "view_shapes.py"
TREE = ast.parse(SHAPES.read_text())
FUNCTIONS = [node for node in TREE.body if isinstance(node, ast.FunctionDef)]


def _mccabe_counts() -> dict[str, int]:
    visitor = mccabe.PathGraphingAstVisitor()
    visitor.preorder(TREE, visitor)
    return {graph.entity: graph.complexity() for graph in visitor.graphs.values()}


def test_there_are_at_least_30_shapes():
    assert len(FUNCTIONS) >= 30


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda function: function.name)
def test_complexity_equals_mccabe(function):
    assert cyclomatic_complexity(function) == _mccabe_counts()[function.name]


def _view_of_complexity(complexity: int) -> str:
    """A view function whose complexity (mccabe's count, asserted) is `complexity`."""
    branches = "".join(f"    if request.GET.get('k{index}'):\n        pass\n" for index in range(complexity - 1))
    source = f"def search(request):\n{branches}    return None\n"
    visitor = mccabe.PathGraphingAstVisitor()
    visitor.preorder(ast.parse(source), visitor)
    assert [graph.complexity() for graph in visitor.graphs.values()] == [complexity]
    return source


@pytest.mark.parametrize("config, limit", [("", 10), ("[tool.layerguard.lint.LG203]\nmax-complexity = 4\n", 4),
                                           ("[tool.layerguard.lint.LG203]\nmax-complexity = 1\n", 1)])
def test_lg203_reports_above_the_limit_and_not_at_it(scaffold, config, limit):
    """"Exceeds a threshold" (SPEC): complexity == max-complexity passes, one more fails."""
    from conftest import run_cli, write_tree

    write_tree(scaffold, {"pyproject.toml": config, "shop/views.py": _view_of_complexity(limit),
                          "shop/api/__init__.py": "", "shop/api/views.py": _view_of_complexity(limit + 1)})
    result = run_cli("check", "--select", "LG203", "--format", "json", ".", cwd=scaffold)
    assert result.found() == [("LG203", "shop/api/views.py", 1)], result.stderr
    message = result.json["violations"][0]["message"]
    assert f"has cyclomatic complexity {limit + 1} (max {limit})" in message
