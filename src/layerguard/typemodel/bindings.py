"""Where a local name got its value: the one place checkers follow a name back.

`order.save()` is a write only if `order` holds a model instance, and `msg.send()`
sends mail only if `msg` holds an EmailMessage: both questions are answered by the
latest binding of the name before the call, in its innermost function.
"""

from __future__ import annotations

import ast
from typing import Any, Protocol

from layerguard.facts import annotation_name
from layerguard.orm import Origin
from layerguard.typemodel.signatures import framework_types


class FileContext(Protocol):
    """What name-following needs of a checked file (checkers.base.FileContext has it)."""

    path: str
    project: Any
    module: Any
    tree: ast.Module

    def function_node(self, function: Any) -> ast.FunctionDef | ast.AsyncFunctionDef | None: ...


def latest_binding(context: FileContext, call: ast.AST, name: str) -> Origin | None:
    """Where `name` last got its value before `call`, in the innermost enclosing function.

    Assignments, tuple assignments (`obj, created = ...get_or_create()`), `for` targets,
    annotated parameters and `if isinstance(x, Model):` around the call count; the latest
    one before the call wins, so a name
    rebound to a dict after holding a model instance is a dict.
    """
    scope = enclosing_function(context, call)
    best: tuple[int, Origin] | None = None

    def consider(line: int, origin: Origin) -> None:
        nonlocal best
        if line <= call.lineno and (best is None or line >= best[0]):
            best = (line, origin)

    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        arguments = [*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs]
        owner = enclosing_function_name(context, call)
        for position, argument in enumerate(arguments):
            if argument.arg == name:
                if argument.annotation is None and (known := _framework_parameter(context, scope, name, position)):
                    consider(scope.lineno, Origin("known", known=known))  # fixed by the framework
                    continue
                if isinstance(argument.annotation, ast.Subscript):  # `type[Order]`
                    origin = _annotation_origin(argument.annotation)
                    if origin.kind == "class-annotation":
                        consider(scope.lineno, origin)
                        continue
                # Annotated or not: an unannotated one is typed by its call sites (typemodel/solver.py).
                # A generic annotation is kept whole (`QuerySet[Profile]`, `list[Order]`).
                annotation = ast.unparse(argument.annotation) if _is_generic(argument.annotation) \
                    else annotation_name(argument.annotation)
                consider(scope.lineno, Origin("parameter", annotation=annotation, owner=owner, name=name))
    for rule, node, origin in _scope_bindings(context, scope).get(name, ()):
        if rule == "before-end":  # an assignment counts once its whole statement is over
            if node.end_lineno < call.lineno:
                consider(node.lineno, origin)
        elif rule == "before":
            if node.lineno < call.lineno:
                consider(node.lineno, origin)
        elif rule == "at-or-before":
            if node.lineno <= call.lineno:
                consider(node.lineno, origin)
        elif rule == "narrowed":  # `if isinstance(source, Food):`, inside its body
            if node.body[0].lineno <= call.lineno <= (node.body[-1].end_lineno or 0):
                consider(node.lineno, origin)
        elif rule == "loop":  # a `for` target, inside its loop
            if node.lineno <= call.lineno <= (node.end_lineno or 0):
                consider(node.lineno, origin)
        elif (node.lineno, node.col_offset) <= (call.lineno, call.col_offset) \
                and (call.end_lineno, call.end_col_offset) <= (node.end_lineno, node.end_col_offset):
            consider(node.lineno, origin)  # a comprehension target, inside its comprehension
    if best is None and isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return _free_variable(context, scope, name) or _module_constant(context, name)
    return best[1] if best else None


COLLECTION_LITERALS = (ast.Tuple, ast.List, ast.Set, ast.Dict)


def _module_constant(context: FileContext, name: str) -> Origin | None:
    """A name a function reads but never binds, bound once in its module to a literal
    collection (`MODELS = (Order, Line)`, `BY_KIND = {"order": Order}`): the function runs
    after the module was loaded, so that literal is its value. A name bound more than once
    at module level, or made `global` anywhere, is not followed."""
    bindings = _scope_bindings(context, context.tree).get(name, ())
    if len(bindings) != 1 or _declared_global(context, name):
        return None
    rule, node, origin = bindings[0]
    if rule == "before-end" and origin.kind == "assign" and isinstance(origin.node, COLLECTION_LITERALS) \
            and isinstance(node, ast.Assign) and len(node.targets) == 1:
        return origin
    return None


def _declared_global(context: FileContext, name: str) -> bool:
    memo = getattr(context, "memo", None)
    names = memo.get("global_names") if memo is not None else None
    if names is None:
        names = {n for node in ast.walk(context.tree) if isinstance(node, ast.Global) for n in node.names}
        if memo is not None:
            memo["global_names"] = names
    return name in names


def _free_variable(context: FileContext, scope: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> Origin | None:
    """A name a nested function reads but never binds is its enclosing function's
    (`def _on_error(): submission.save()` inside `send(submission: SupportTicket)`): its
    latest binding there before the `def`. Closures only: a method's free names are
    globals, which are not followed."""
    arguments = [*scope.args.posonlyargs, *scope.args.args, *scope.args.kwonlyargs, scope.args.vararg, scope.args.kwarg]
    if any(argument is not None and argument.arg == name for argument in arguments) \
            or _scope_bindings(context, scope).get(name):
        return None  # bound in the nested function itself (after the use: not the outer's)
    line = min([scope.lineno, *(decorator.lineno for decorator in scope.decorator_list)]) - 1
    anchor = ast.Pass(lineno=line, col_offset=0, end_lineno=line, end_col_offset=0)
    outer = enclosing_function(context, anchor)
    if not isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef)) or outer is scope \
            or not (outer.lineno <= line <= (outer.end_lineno or 0)):
        return None
    return latest_binding(context, anchor, name)


LIST_MUTATORS = {"append", "extend", "insert"}


def _empty_list_name(node: ast.AST) -> str | None:
    """The name `node` binds to an empty list (`x = []`, `x: list[...] = []`, `x = list()`), if it does."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
    elif isinstance(node, ast.AnnAssign):
        target = node.target
    else:
        return None
    value = node.value
    empty = (isinstance(value, ast.List) and not value.elts) or (
        isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "list"
        and not value.args and not value.keywords)
    return target.id if isinstance(target, ast.Name) and empty else None


def _scope_bindings(context: FileContext, scope: ast.AST) -> dict[str, list[tuple[str, ast.AST, Origin]]]:
    """Every binding in `scope` (not in nested functions), by name, in walk order: one walk
    per scope and file, however many names are followed in it (saleor: 3,500 look-ups)."""
    memo = getattr(context, "memo", None)
    cached = memo.setdefault("scope_bindings", {}).get(id(scope)) if memo is not None else None
    if cached is not None:
        return cached[1]
    index: dict[str, list[tuple[str, ast.AST, Origin]]] = {}

    def add(name: str, rule: str, node: ast.AST, origin: Origin) -> None:
        index.setdefault(name, []).append((rule, node, origin))

    appended: dict[str, list[ast.expr]] = {}  # `pairs.append((order, line))`, by list name
    built: list[tuple[str, ast.Assign]] = []  # `pairs = []`
    for node in walk_own_scope(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.attr in LIST_MUTATORS:
            values = appended.setdefault(node.func.value.id, [])
            if node.func.attr == "append" and len(node.args) == 1 and not node.keywords \
                    and not isinstance(node.args[0], ast.Starred):
                values.append(node.args[0])
            else:
                values.append(None)  # extended, inserted: unknown items
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            appended.setdefault(node.target.id, []).append(None)
        built_name = _empty_list_name(node)  # `pairs = []`, `bucket: list[tuple[Ingredient, dict]] = []`
        if built_name is not None:
            built.append((built_name, node))
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    add(target.id, "before-end", node, Origin("assign", node.value))
                elif isinstance(target, ast.Tuple) and _unpacks_elementwise(target, node.value):
                    for element, value in zip(target.elts, node.value.elts):  # `order, customer = a, b`
                        if isinstance(element, ast.Name):
                            add(element.id, "before-end", node, Origin("assign", value))
                elif isinstance(target, ast.Tuple) and target.elts:
                    first = target.elts[0].id if isinstance(target.elts[0], ast.Name) else None
                    if first is not None:
                        add(first, "before-end", node, Origin("assign-first-of-tuple", node.value))
                    for other in {e.id for e in target.elts[1:] if isinstance(e, ast.Name)} - {first}:
                        add(other, "before-end", node, Origin("unknown"))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            origin = Origin("assign", node.value, annotation=annotation_name(node.annotation)) \
                if node.value is not None else Origin("annotation", annotation=annotation_name(node.annotation))
            add(node.target.id, "before", node, origin)
        elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
            add(node.target.id, "loop", node, Origin("loop", node.iter))
        elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Tuple):
            for position, element in enumerate(node.target.elts):  # `for i, order in enumerate(orders)`
                if isinstance(element, ast.Name):
                    add(element.id, "loop", node, Origin("loop", node.iter, index=position))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    add(item.optional_vars.id, "before", node, Origin("unknown"))
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for generator in node.generators:  # `[order.items.count() for order in orders]`
                if isinstance(generator.target, ast.Name):
                    add(generator.target.id, "inside", node, Origin("loop", generator.iter))
                elif isinstance(generator.target, ast.Tuple):
                    for position, element in enumerate(generator.target.elts):
                        if isinstance(element, ast.Name):
                            add(element.id, "inside", node, Origin("loop", generator.iter, index=position))
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            add(node.target.id, "at-or-before", node, Origin("assign", node.value))
        elif isinstance(node, ast.If):
            for test in node.test.values if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.And) \
                    else [node.test]:
                if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance" \
                        and len(test.args) == 2 and isinstance(test.args[0], ast.Name) \
                        and (named := annotation_name(test.args[1])):
                    add(test.args[0].id, "narrowed", node, Origin("annotation", annotation=named))
    for name, node in built:
        # A list built empty and appended to in the scope is the list of what is appended
        # (`for rule, channels in pairs:` after `pairs.append((rule, channels))`).
        values = appended.get(name)
        value = ast.List(elts=values, ctx=ast.Load()) if values and None not in values else node.value
        add(name, "before-end" if isinstance(node, ast.Assign) else "before", node, Origin("assign", value))
    if memo is not None:
        memo["scope_bindings"][id(scope)] = (scope, index)  # the scope kept alive: its id stays its own
    return index


def _is_generic(annotation: ast.expr | None) -> bool:
    """`QuerySet[Profile]`, `list[Order]`, `Optional[Order]`; not `type[Order]` (a class)."""
    return isinstance(annotation, ast.Subscript) and (annotation_name(annotation.value) or "").rsplit(".", 1)[-1] \
        in ("QuerySet", "Manager", "BaseManager", "RelatedManager", "list", "List", "Sequence", "Iterable", "set",
            "Set", "tuple", "Tuple")


def _annotation_origin(annotation: ast.expr | None) -> Origin:
    """A parameter's annotation: `Order` is an instance, `type[Order]` the class."""
    if isinstance(annotation, ast.Subscript) and annotation_name(annotation.value) in ("type", "Type", "typing.Type"):
        return Origin("class-annotation", annotation=annotation_name(annotation.slice))
    return Origin("annotation", annotation=annotation_name(annotation))


def _framework_parameter(context: FileContext, scope: ast.AST, name: str, position: int):
    """What Django / DRF / the admin pass as this parameter (typemodel/signatures.py)."""
    _, functions = context.project.enclosing(context.path, scope.lineno)
    for function in functions:
        if function.line == scope.lineno and function.name == scope.name:
            return framework_types(context.project).parameter(context.module, function, name, position)
    return None


def enclosing_function(context: FileContext, call: ast.AST) -> ast.AST:
    """The innermost function around `call` (from the facts' line ranges), else the module."""
    _, functions = context.project.enclosing(context.path, call.lineno)
    for function in reversed(functions):
        node = context.function_node(function)
        if node is not None:
            return node
    return context.tree


def enclosing_function_name(context: FileContext, at: ast.AST) -> str | None:
    """The qualified name of the innermost function around `at` (`shop.views.pay`)."""
    _, functions = context.project.enclosing(context.path, at.lineno)
    if not functions:
        return None
    return f"{context.project.modules_by_path[context.path].name}.{functions[-1].qualname}"


def walk_own_scope(scope: ast.AST):
    """Nodes of `scope`, not descending into nested functions, classes or lambdas."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))


def _unpacks_elementwise(target: ast.Tuple, value: ast.expr) -> bool:
    """`a, b = x, y`: each name takes the element at its position (no starred element)."""
    return isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts) \
        and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))
