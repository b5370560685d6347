"""Cyclomatic complexity, counted as the `mccabe` package (flake8's C901) counts it.

Start at 1 for the function. Add 1 for each `if`/`elif`, `for`, `async for`, `while`
(an `else:` on them adds nothing more), 1 for each nested function or lambda-free
`def` inside it (plus its own decisions), and for a `try`: 1 plus 1 per `except`.
`with`, `finally`, `match`, boolean operators, comprehensions and conditional
expressions add nothing: that is mccabe's graph, and matching it means a team's
existing C901 numbers and layerguard's agree.
"""

from __future__ import annotations

import ast


def cyclomatic_complexity(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    return 1 + _decisions(function.body)


def _decisions(statements: list[ast.stmt]) -> int:
    count = 0
    for statement in statements:
        if isinstance(statement, (ast.If, ast.For, ast.AsyncFor, ast.While)):
            count += 1 + _decisions(statement.body) + _decisions(statement.orelse)
        elif isinstance(statement, ast.Try):
            count += 1 + len(statement.handlers) + _decisions(statement.body) + _decisions(statement.orelse)
            count += sum(_decisions(handler.body) for handler in statement.handlers)
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            count += _decisions(statement.body)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            count += 1 + _decisions(statement.body)
        elif isinstance(statement, ast.ClassDef):
            count += _decisions(statement.body)
    return count
