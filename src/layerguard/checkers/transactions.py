"""Transactions opened in the delivery layer: shared by LG202 (views) and LG303 (serializers).

semgrep hands over candidate spans (rules/LG202-transaction-in-view.yaml); this module
finds the node in the span, resolves `atomic` through the project model, and says
whether it sits in a view or a serializer. The reported line is the `with` line, the
decorator line, or the call's first line.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from layerguard.checkers.base import FileContext, Span, interpolate
from layerguard.facts import dotted_name
from layerguard.orm import short_code
from layerguard.semgrep import RULES_DIR, SemgrepMatch, SemgrepRule, load_rules
from layerguard.violation import Violation

ATOMIC = {"django.db.transaction.atomic", "django.db.transaction.Atomic"}
METHOD_DECORATOR = "django.utils.decorators.method_decorator"


def transaction_violation(code: str, layer: str, match: SemgrepMatch, rule: SemgrepRule,
                          context: FileContext) -> Violation | None:
    start, end = context.position(match.start_offset), context.position(match.end_offset)
    found = _find(context, match.check_id, start, end)
    if found is None:
        return None
    span, layer_line, values = found
    if context.project.delivery_layer(context.path, layer_line) != layer:
        return None
    hint = context.project.service_module_hint(context.path)
    message = f"{interpolate(rule.message, values)} in a {layer}; move it to {hint}"
    return context.violation(code, span, message)


def _find(context: FileContext, check_id: str, start, end):
    if check_id.startswith("select-for-update"):
        for call in context.calls_within(start, end):
            if isinstance(call.func, ast.Attribute) and call.func.attr == "select_for_update":
                return call, call.lineno, {"QUERYSET": short_code(call.func.value)}
        return None
    for node in context.nodes_on_line(start[0]):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                written = _atomic(context, item.context_expr)
                if written:
                    span = Span(node.lineno, node.col_offset, item.context_expr.end_lineno,
                                item.context_expr.end_col_offset)
                    return span, node.lineno, {"ATOMIC": written}
    for call in context.calls_within(start, end):
        callee = dotted_name(call.func)
        if callee and context.project.resolve_bound(context.module, callee) == METHOD_DECORATOR and call.args:
            written = _atomic(context, call.args[0])
            if written:
                return call, _decorated_line(context, call), {"ATOMIC": written}
    for node in ast.walk(context.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                if start[0] <= decorator.lineno <= end[0]:
                    written = _atomic(context, decorator)
                    if written:
                        return decorator, node.lineno, {"ATOMIC": written}
    return None


def renamed_atomic_violations(code: str, layer: str, context: FileContext) -> list[Violation]:
    """`atomic` under a name semgrep's regex cannot see (`from django.db.transaction import
    atomic as locked`): the YAML keeps its cheap `...atomic` filter, this walk covers the rest."""
    hint = context.project.service_module_hint(context.path)
    template = _atomic_message()
    return [context.violation(code, span, f"{interpolate(template, {'ATOMIC': written})} in a {layer}; move it to {hint}")
            for span, found_layer, written in _renamed_atomics(context) if found_layer == layer]


@lru_cache(maxsize=1)
def _atomic_message() -> str:
    """The YAML rule's own message: Python fills it in, never re-types it."""
    rules = load_rules(RULES_DIR / "LG202-transaction-in-view.yaml")
    return next(rule.message for rule in rules if rule.id == "transaction-in-delivery-layer")


def _renamed_atomics(context: FileContext) -> list[tuple]:
    """(span, layer, name as written) of each renamed `atomic`: one walk per file, shared by
    LG202 and LG303, and only in files that hold views or serializers and mention `atomic`."""
    if "renamed_atomics" in context.memo:
        return context.memo["renamed_atomics"]
    found = []
    if b"atomic" in context.source and context.project.has_delivery_code(context.path):
        for node in ast.walk(context.tree):
            candidates = []
            if isinstance(node, (ast.With, ast.AsyncWith)):
                candidates = [(item.context_expr, Span(node.lineno, node.col_offset, item.context_expr.end_lineno,
                                                       item.context_expr.end_col_offset), node.lineno)
                              for item in node.items]
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                for decorator in node.decorator_list:
                    candidates.append((decorator, decorator, node.lineno))
                    callee = dotted_name(decorator.func) if isinstance(decorator, ast.Call) else None
                    if (callee and decorator.args
                            and context.project.resolve_bound(context.module, callee) == METHOD_DECORATOR):
                        candidates.append((decorator.args[0], decorator, node.lineno))
            for expression, span, layer_line in candidates:
                target = expression.func if isinstance(expression, ast.Call) else expression
                dotted = dotted_name(target)
                if not dotted or dotted.rsplit(".", 1)[-1] == "atomic":
                    continue  # semgrep's pattern reports these
                written = _atomic(context, expression)
                layer = context.project.delivery_layer(context.path, layer_line) if written else None
                if layer:
                    found.append((span, layer, written))
    context.memo["renamed_atomics"] = found
    return found


def _atomic(context: FileContext, expression: ast.AST) -> str | None:
    """`transaction.atomic` as written, when `expression` is (a call of) Django's atomic."""
    target = expression.func if isinstance(expression, ast.Call) else expression
    dotted = dotted_name(target)
    if dotted and context.project.resolve_bound(context.module, dotted) in ATOMIC:
        return dotted
    return None


def _decorated_line(context: FileContext, call: ast.Call) -> int:
    """The `def`/`class` line a decorator call applies to, so the layer is the decorated thing's."""
    for node in ast.walk(context.tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and call in node.decorator_list:
            return node.lineno
    return call.lineno
