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
