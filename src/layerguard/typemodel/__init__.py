"""How layerguard knows what an expression is: the one entry point.

Every checker that needs "is `x` an `Order`, a queryset, a related manager?" asks
`context.types.type_of(node)` (or `context.types.write_of(call)` for "is this call an
ORM write?") and nothing else. Behind it: the project model's one name resolver,
the ORM's rules (orm.py), the latest binding of local names (bindings.py) and, for values
that cross a function boundary (returns, parameters typed by their call sites, `self.x`
attributes), the whole-project flow solver (solver.py).

Unknown means silence: `None` is the answer whenever layerguard cannot tell, and a
rule never fires on `None`.
"""

from __future__ import annotations

import ast
from typing import Any

from layerguard.orm import Origin, OrmType, OrmTyper, OrmWrite, short_code
from layerguard.typemodel.solver import solver_for
from layerguard.typemodel.bindings import FileContext, enclosing_function, enclosing_function_name, latest_binding
from layerguard.typemodel.models import model_graph
from layerguard.typemodel.signatures import framework_types

__all__ = ["FileTypes", "OrmType", "OrmWrite", "prepare_shared_indexes"]


def prepare_shared_indexes(project: Any) -> None:
    """Build the run's project-wide indexes (the model table and graph, the framework
    signatures, the solver's function and subclass indexes) now, before the
    rules' workers fork: each worker would otherwise build its own copy (netbox: 0.45 s
    of CPU per worker)."""
    project.models
    model_graph(project)
    framework_types(project)
    solver = solver_for(project)
    solver.functions, solver._subclasses(), solver.callers()

MAX_NAMES_FOLLOWED = 12


class FileTypes:
    """The types of one checked file's expressions."""

    def __init__(self, context: FileContext):
        self.context = context
        # Parameters whose type a framework signature fixes but no annotation says, as
        # (function def line, name) -> model: a serializer's `get_<field>(self, obj)` (LG304).
        self.parameter_models: dict[tuple[int, str], str] = {}

    def assume_parameter(self, function: ast.AST, name: str, model: str) -> None:
        """Treat unannotated parameter `name` of `function` as an instance of `model`."""
        self.parameter_models[(function.lineno, name)] = model

    def type_of(self, node: ast.AST, at: ast.AST | None = None) -> OrmType | None:
        """What `node` is (a model class, manager, queryset, related manager or instance),
        or None when unknown. Local names are followed to their latest binding before
        `at` (default: `node` itself)."""
        return self._typer(at or node).type_of(node, self._environment(node, at or node))

    def write_of(self, call: ast.Call) -> OrmWrite | None:
        """The ORM write `call` performs, or None when it is not (known to be) one."""
        return self._typer(call).write_of(call, self._environment(call.func, call))

    def why_unknown(self, node: ast.AST, at: ast.AST | None = None, hops: int = 0) -> str:
        """Why `node` types as unknown, in a few words (`check --show-untyped`): the first
        link of its chain that could not be typed, and where that link's value came from."""
        at = at or node
        depth = 0
        while depth < 20:
            depth += 1
            if isinstance(node, ast.Await):
                node = node.value
                continue
            if isinstance(node, (ast.Attribute, ast.Subscript)) or (
                    isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                base = node.func.value if isinstance(node, ast.Call) else node.value
                if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
                    return "`super()` is not followed"
                base_type = self.type_of(base, at)
                if base_type is None:
                    node = base
                    continue
                link = short_code(node)
                article = "an" if base_type.kind[0] in "aeiou" else "a"
                what = f"{article} {base_type.kind} of `{base_type.model}`" if base_type.model \
                    else f"{article} {base_type.kind}"
                return f"`{link}` is not known on {what}"
            if isinstance(node, ast.Call):
                return f"`{short_code(node.func)}(...)` returns an unknown type"
            if isinstance(node, ast.Name):
                return self._why_name(node, at, hops)
            return f"`{short_code(node)}` is not followed"
        return "too deep to explain"

    def _why_name(self, node: ast.Name, at: ast.AST, hops: int) -> str:
        name = node.id
        if name in ("self", "cls"):
            return f"`{name}` is not typed here"
        origin = latest_binding(self.context, at, name)
        if origin is None:
            qualified = self.context.project.resolve(self.context.module, name)
            if qualified == name:
                return f"`{name}` is not bound in this function or module"
            return f"`{name}` is `{qualified}`, not a known model or manager"
        if origin.kind == "parameter":
            if origin.annotation:
                return f"`{name}` is annotated `{origin.annotation}`, not a known model"
            return f"`{name}` is a parameter without annotation whose call sites do not agree on one model"
        if origin.kind == "loop":
            return f"`{name}` is a loop variable over `{short_code(origin.node)}`"
        if origin.kind == "unknown":
            return f"`{name}` is bound by `with` or a tuple target"
        if origin.node is not None:
            why = self.why_unknown(origin.node, origin.node, hops + 1) if hops < 5 else "..."
            return f"`{name}` = `{short_code(origin.node)}`: {why}"
        return f"`{name}` is not typed"

    def _typer(self, at: ast.AST) -> OrmTyper:
        context = self.context
        classes, _ = context.project.enclosing(context.path, at.lineno)
        enclosing_class = context.project.class_qualname(context.path, classes[-1]) if classes else None
        return OrmTyper(context.project, context.module, enclosing_class, enclosing_function_name(context, at),
                        solver_for(context.project), model_graph(context.project), framework_types(context.project))

    def _environment(self, node: ast.AST, at: ast.AST) -> dict[str, Origin]:
        """The local names `node` reads, each with where it last got its value (looked up
        when the typer asks, so names read by those values are followed too)."""
        return LocalNames(self.context, at)


class LocalNames(dict):
    """Local names as of a position, each resolved to its latest binding on first use.

    Typing a name's value moves to that value's position (`qs = ...; order = qs.first()`:
    `qs` is looked up before the line that binds `order`), and the name itself is left
    out there, so `order = order.items.first()` reads the previous `order`."""

    LIMIT = 12  # hops through local names; past it, unknown

    def __init__(self, context: FileContext, at: ast.AST, excluded: frozenset = frozenset(), hops: int = 0):
        super().__init__()
        self.context, self.position, self.excluded, self.hops = context, at, excluded, hops

    def _lookup(self, name: str) -> Origin | None:
        if self.hops > self.LIMIT:
            return None
        if not dict.__contains__(self, name):
            memo = self.context.memo.setdefault("latest_binding", {})
            key = (id(self.position), name)
            if key not in memo:
                memo[key] = (latest_binding(self.context, self.position, name), self.position)
            origin = _assumed(self.context, self.position, name, memo[key][0])
            if origin is not None and (name, _binding_key(origin)) in self.excluded:
                origin = None  # the binding being followed: not its own value
            dict.__setitem__(self, name, origin)
        return dict.__getitem__(self, name)

    def __bool__(self) -> bool:  # names are looked up on use: never "empty"
        return True

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and self._lookup(name) is not None

    def __getitem__(self, name: str) -> Origin:
        origin = self._lookup(name)
        if origin is None:
            raise KeyError(name)
        return origin

    def get(self, name, default=None):
        origin = self._lookup(name) if isinstance(name, str) else None
        return default if origin is None else origin

    def without(self, name: str, origin: Origin | None = None) -> "LocalNames":
        """The names, `origin` (the binding of `name` being followed) left out."""
        key = _binding_key(origin) if origin is not None else None
        return LocalNames(self.context, self.position, self.excluded | {(name, key)}, self.hops)

    def moved_to(self, node: ast.AST) -> "LocalNames":
        """The same names, as of `node` (where a value being followed was computed)."""
        if not hasattr(node, "lineno"):
            return self
        return LocalNames(self.context, node, self.excluded, self.hops + 1)


def _assumed(context: FileContext, at: ast.AST, name: str, origin: Origin | None) -> Origin | None:
    """An unannotated parameter a rule has typed (`FileTypes.assume_parameter`)."""
    if origin is None or origin.kind != "parameter" or origin.annotation:
        return origin
    models = getattr(context.types, "parameter_models", None) if hasattr(context, "types") else None
    if not models:
        return origin
    function = enclosing_function(context, at)
    model = models.get((getattr(function, "lineno", 0), name))
    return Origin("known", known=OrmType("instance", model)) if model else origin


def _binding_key(origin: Origin):
    return id(origin.node) if origin.node is not None else (origin.kind, origin.owner)


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
