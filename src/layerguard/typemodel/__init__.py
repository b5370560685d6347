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
from layerguard.typemodel.bindings import FileContext, enclosing_function, latest_binding

__all__ = ["FileTypes", "OrmType", "OrmWrite"]


class FileTypes:
    """The types of one checked file's expressions."""

    def __init__(self, context: FileContext):
        self.context = context
        # Parameters whose type a framework signature fixes but no annotation says, as
        # (function def line, name) -> model: a serializer's `get_<field>(self, obj)`.
        self.parameter_models: dict[tuple[int, str], str] = {}

    def assume_parameter(self, function: ast.AST, name: str, model: str) -> None:
        """Treat parameter `name` of `function` as an instance of `model`."""
        self.parameter_models[(function.lineno, name)] = model

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
        return OrmTyper(context.project, context.module, enclosing_class)

    def _environment(self, node: ast.AST, at: ast.AST) -> dict[str, Origin]:
        """The local names `node` reads, each with where it last got its value, and the
        names those values read in turn (`orders = Order.objects.filter(...)`, then
        `for order in orders`: `order` needs `orders`), a few levels deep."""
        environment: dict[str, Origin] = {}
        pending = [(name, at) for name in _names_read(node)]
        for _ in range(4):
            following = []
            for name, where in pending:
                if name in environment:
                    continue
                origin = self._origin(name, where)
                if origin is not None:
                    environment[name] = origin
                    if origin.node is not None and hasattr(origin.node, "lineno"):
                        following.extend((read, origin.node) for read in _names_read(origin.node) if read != name)
            pending = following
            if not pending:
                break
        return environment

    def _origin(self, name: str, at: ast.AST) -> Origin | None:
        origin = latest_binding(self.context, at, name)
        if origin is not None and origin.kind == "annotation" and not origin.annotation and self.parameter_models:
            function = enclosing_function(self.context, at)
            model = self.parameter_models.get((getattr(function, "lineno", 0), name))
            if model:
                origin = Origin("annotation", annotation=model)
        return origin


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
