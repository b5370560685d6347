"""How layerguard knows what an expression is: the one entry point.

Every checker that needs "is `x` an `Order`, a queryset, a related manager?" asks
`context.types.type_of(node)` (or `context.types.write_of(call)` for "is this call an
ORM write?") and nothing else. Behind it: the project model's one name resolver,
the ORM's rules (orm.py) and the latest binding of local names (bindings.py).

Unknown means silence: `None` is the answer whenever layerguard cannot tell, and a
rule never fires on `None`.
"""

from __future__ import annotations

import ast
from typing import Any

from layerguard.orm import Origin, OrmType, OrmTyper, OrmWrite
from layerguard.typemodel.bindings import FileContext, latest_binding
from layerguard.typemodel.models import model_graph
from layerguard.typemodel.signatures import framework_types

__all__ = ["FileTypes", "OrmType", "OrmWrite"]

MAX_NAMES_FOLLOWED = 12


class FileTypes:
    """The types of one checked file's expressions."""

    def __init__(self, context: FileContext):
        self.context = context

    def type_of(self, node: ast.AST, at: ast.AST | None = None) -> OrmType | None:
        """What `node` is (a model class, manager, queryset, related manager or instance),
        or None when unknown. Local names are followed to their latest binding before
        `at` (default: `node` itself)."""
        return self._typer(at or node).type_of(node, self._environment(node, at or node))

    def write_of(self, call: ast.Call) -> OrmWrite | None:
        """The ORM write `call` performs, or None when it is not (known to be) one."""
        return self._typer(call).write_of(call, self._environment(call.func, call))

    def _typer(self, at: ast.AST) -> OrmTyper:
        context = self.context
        classes, _ = context.project.enclosing(context.path, at.lineno)
        enclosing_class = context.project.class_qualname(context.path, classes[-1]) if classes else None
        return OrmTyper(context.project, context.module, enclosing_class, model_graph(context.project),
                        framework_types(context.project))

    def _environment(self, node: ast.AST, at: ast.AST) -> dict[str, Origin]:
        """The local names `node` reads, each with where it last got its value, and the
        names those values read in turn (`for row in rows:` after `rows = ...`)."""
        environment: dict[str, Origin] = {}
        pending = [(name, at) for name in _names_read(node)]
        while pending and len(environment) < MAX_NAMES_FOLLOWED:
            name, where = pending.pop()
            if name in environment:
                continue
            origin = latest_binding(self.context, where, name)
            if origin is not None:
                environment[name] = origin
                if origin.node is not None:
                    pending.extend((read, origin.node) for read in _names_read(origin.node) if read != name)
        return environment


def _names_read(node: Any) -> list[str]:
    """The root name of an attribute/call/subscript chain, and of its call arguments."""
    names: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, ast.Name):
            names.append(current.id)
        elif isinstance(current, ast.Attribute):
            stack.append(current.value)
        elif isinstance(current, ast.Subscript):
            stack.append(current.value)
        elif isinstance(current, ast.Await):
            stack.append(current.value)
        elif isinstance(current, ast.Call):
            stack.append(current.func)
            stack.extend(current.args)
    return list(dict.fromkeys(names))
