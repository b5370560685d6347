"""What a query is, as LG204, LG205 and LG304 see it: chains of queryset calls, where
they start, which of them evaluate a query, which relations a loop has prefetched.

A *chain* is a run of method calls (and slices) on something the type model calls a
manager, queryset or related manager: `Order.objects.filter(...).annotate(...)[:10]`
starts at `Order.objects`; `order.items.count()` at `order.items`. A chain whose start
is a local name bound to another chain (`qs = Order.objects.filter(...)`, then
`qs.annotate(...)`) continues that one: both are one *query*, reported once, where the
first chain starts. Everything here asks `context.types.type_of` what an expression is,
so `cache.get()`, `dict.get()`, `requests.get()` and a list's `.count()` are never
queries: their receivers are not managers or querysets.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Iterator

from layerguard.facts import dotted_name
from layerguard.orm import MANAGER_WRITES, RELATED_WRITES, short_code
from layerguard.typemodel.bindings import latest_binding

QUERYSET_KINDS = ("manager", "queryset", "related")

# Calls that run the query they end (Django's "When QuerySets are evaluated", plus the
# methods that return one row or one number).
EVALUATORS = {
    "get", "first", "last", "latest", "earliest", "exists", "count", "aggregate", "in_bulk",
    "contains", "iterator", "explain",
    "aget", "afirst", "alast", "alatest", "aearliest", "aexists", "acount", "aaggregate",
    "ain_bulk", "acontains", "aiterator",
}
# Builtins that evaluate a queryset passed to them.
EVALUATING_BUILTINS = {"list", "tuple", "set", "sorted", "len", "bool", "sum", "max", "min", "any", "all", "dict"}
# Reads a prefetched relation serves from its cache (QuerySet._result_cache): `.all()`,
# iteration, `len()`, `.count()`, `.exists()`. Anything else builds a new query.
PREFETCH_SERVED = {"all", "count", "exists", "acount", "aexists"}
WRITES = MANAGER_WRITES | RELATED_WRITES
# ContentTypeManager's cached lookups (and managers that proxy it, such as netbox's ObjectType).
CACHED_LOOKUPS = {"get_for_model", "get_for_models", "get_for_id", "clear_cache"}
# What makes a query more than a lookup (LG204).
COMPLEX_METHODS = {"annotate", "aggregate", "alias", "raw", "extra", "aaggregate"}
COMPLEX_EXPRESSIONS = {"Subquery", "OuterRef", "Exists", "Window", "RawSQL"}
COMPLEX_EXPRESSION_MODULES = ("django.db.models.", "django.db.models.expressions.")
RELATED_LOADERS = {"select_related", "prefetch_related"}
PREFETCH = {"django.db.models.Prefetch", "django.db.models.query.Prefetch"}


@dataclass
class Chain:
    """One run of queryset calls: `node` is the whole expression, `start` where it begins."""

    node: ast.expr
    start: ast.expr  # Order.objects, order.items, qs
    kind: str  # the start's kind: "manager", "queryset" or "related"
    model: str | None
    links: list[tuple[str, ast.AST]]  # (method name or "[]" for a subscript, node), in order
    origin: Chain | None = None  # the chain a local-name start was bound from
    bound_name: str | None = None

    @property
    def methods(self) -> list[str]:
        return [name for name, _ in self.links]

    @property
    def first(self) -> Chain:
        """The chain the query started with (following local names back)."""
        chain = self
        while chain.origin is not None:
            chain = chain.origin
        return chain

    def query_methods(self) -> list[tuple[str, ast.AST]]:
        """Every link of the whole query, from its first chain to this one."""
        links: list[tuple[str, ast.AST]] = []
        chain: Chain | None = self
        while chain is not None:
            links = chain.links + links
            chain = chain.origin
        return links

    @property
    def evaluates(self) -> bool:
        return bool(self.links) and self.links[-1][0] in EVALUATORS

    @property
    def writes(self) -> bool:
        return any(name in WRITES for name, _ in self.links)

    def display(self) -> str:
        text = short_code(self.node)
        if len(text) > 90:
            methods = self.methods
            tail = "[...]" if methods[-1] == "[]" else ""
            calls = [name for name in methods if name != "[]"]
            text = f"{short_code(self.start)}.{calls[0]}(...)" + (f"...{calls[-1]}(...)" if len(calls) > 1 else "") + tail
        return text


@dataclass
class Complexity:
    """Why a query is more than a lookup; empty `reasons` means it is a plain lookup."""

    features: list[str] = field(default_factory=list)  # annotate, Subquery, "4 select/prefetch_related paths"
    length: int = 0  # calls in the whole query, `.all()` and slices not counted
    too_long: bool = False

    @property
    def reasons(self) -> list[str]:
        return [*self.features, *([f"{self.length} chained calls"] if self.too_long else [])]


def chains_in(context: Any, scope: ast.AST) -> list[Chain]:
    """Every outermost queryset chain inside `scope` (nested functions included), in
    source order. A chain's inner calls are not chains of their own; a call on the result
    of an evaluator (`.get().items.all()`) starts a new chain."""
    key = ("chains", id(scope))
    if key in context.memo:
        return context.memo[key]
    inner: set[int] = set()
    found: list[Chain] = []
    for node in _walk_body(scope):  # breadth first: an outer call comes before its inner calls
        if not isinstance(node, (ast.Call, ast.Subscript)) or id(node) in inner:
            continue
        chain = chain_at(context, node)
        if chain is None:
            continue
        for _, link in chain.links:
            inner.add(id(link))
            # A queryset inside a link's arguments (`filter(Exists(Item.objects...))`,
            # `pk__in=Item.objects.values(...)`) is a subquery of this one: one query.
            if isinstance(link, ast.Call):
                for argument in [*link.args, *(keyword.value for keyword in link.keywords)]:
                    inner.update(id(sub) for sub in ast.walk(argument))
        found.append(chain)
    found.sort(key=lambda chain: (chain.node.lineno, chain.node.col_offset))
    context.memo[key] = found
    return found


def _walk_body(scope: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk` of a function's body only: its decorators and defaults run once, at
    import (`@extend_schema_field(queryset=Tag.objects.all())` is not the method's query)."""
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        for statement in scope.body:
            yield from ast.walk(statement)
    else:
        yield from ast.walk(scope)


def chain_at(context: Any, node: ast.expr, depth: int = 0) -> Chain | None:
    """The queryset chain that ends at `node`, or None when `node` is not one (found once
    per node and file: the rules ask for every call of every chain, and each chain
    follows its start back through the chains bound to it)."""
    memo = context.memo.setdefault("chain_at", {})
    if id(node) not in memo:
        memo[id(node)] = _chain_at(context, node, depth)
    return memo[id(node)]


def _chain_at(context: Any, node: ast.expr, depth: int) -> Chain | None:
    links: list[tuple[str, ast.AST]] = []
    current: ast.AST = node
    while True:
        if isinstance(current, ast.Await):
            current = current.value
        elif isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
            links.append((current.func.attr, current))
            current = current.func.value
        elif isinstance(current, ast.Subscript) and isinstance(current.slice, ast.Slice):
            links.append(("[]", current))
            current = current.value
        else:
            break
    if not links:
        return None
    links.reverse()
    origin_chain = None
    if isinstance(current, ast.Name) and depth < 20:
        origin = latest_binding(context, node, current.id)
        if origin is not None and origin.kind == "assign" and isinstance(origin.node, (ast.Call, ast.Subscript)):
            origin_chain = chain_at(context, origin.node, depth + 1)
            if origin_chain is not None and (origin_chain.evaluates or origin_chain.writes
                                             or origin_chain.node is not _unwrap(origin.node)):
                origin_chain = None
    if origin_chain is not None:
        # `qs = qs.filter(...)`: the name holds the query its earlier chain built.
        kind, model = "queryset", origin_chain.model
    else:
        start_type = context.types.type_of(current, at=node)
        if start_type is None or start_type.kind not in QUERYSET_KINDS:
            return None
        kind, model = start_type.kind, start_type.model
    # Keep the links that act on a queryset; an evaluator ends the chain (what follows
    # acts on a row or a number).
    if links[0][0] in CACHED_LOOKUPS:
        return None  # ContentType's own cache: one query per process, not per call
    kept: list[tuple[str, ast.AST]] = []
    for name, link in links:
        kept.append((name, link))
        if name in EVALUATORS or name in WRITES:
            break
    end = kept[-1][1]
    chain = Chain(node=end, start=current, kind=kind, model=model, links=kept, origin=origin_chain)
    if isinstance(current, ast.Name):
        chain.bound_name = current.id
    return chain


def _unwrap(node: ast.AST) -> ast.AST:
    return node.value if isinstance(node, ast.Await) else node


def complexity(context: Any, chain: Chain, max_chain: int, max_related: int) -> Complexity:
    """What makes the whole query (its first chain to `chain`) more than a lookup."""
    links = chain.query_methods()
    reasons: list[str] = []
    for name, _ in links:
        if name in COMPLEX_METHODS and name not in reasons:
            reasons.append(name)
    for expression in _complex_expressions(context, [link for _, link in links]):
        if expression not in reasons:
            reasons.append(expression)
    related_paths = sum(_loader_paths(link) for name, link in links if name in RELATED_LOADERS)
    if related_paths > max_related:
        reasons.append(f"{related_paths} select/prefetch_related paths")
    length = sum(1 for name, _ in links if name not in ("all", "[]"))
    return Complexity(reasons, length, length > max_chain)


def _complex_expressions(context: Any, links: list[ast.AST]) -> list[str]:
    found = []
    for link in links:
        if not isinstance(link, ast.Call):
            continue
        for argument in [*link.args, *(keyword.value for keyword in link.keywords)]:
            for node in ast.walk(argument):
                if isinstance(node, ast.Call):
                    dotted = dotted_name(node.func)
                    qualified = context.project.resolve_bound(context.module, dotted) if dotted else None
                    name = dotted.rsplit(".", 1)[-1] if dotted else ""
                    if name in COMPLEX_EXPRESSIONS and qualified and qualified.startswith(COMPLEX_EXPRESSION_MODULES):
                        found.append(name)
    return found


def _loader_paths(call: ast.AST) -> int:
    if not isinstance(call, ast.Call):
        return 0
    return len([argument for argument in call.args if not isinstance(argument, ast.Starred)])


def prefetched_relations(context: Any, iterable: ast.expr) -> set[str] | None:
    """The relations a loop over `iterable` has prefetched (first path segments), or None
    when `iterable` is not a queryset layerguard can follow (then nothing is known)."""
    chain = chain_at(context, iterable) if isinstance(iterable, (ast.Call, ast.Subscript)) else None
    if chain is None and isinstance(iterable, ast.Name):
        origin = latest_binding(context, iterable, iterable.id)
        if origin is not None and origin.kind == "assign" and isinstance(origin.node, (ast.Call, ast.Subscript)):
            chain = chain_at(context, origin.node)
    if chain is None:
        return None
    relations: set[str] = set()
    for name, link in chain.query_methods():
        if name != "prefetch_related" or not isinstance(link, ast.Call):
            continue
        for argument in link.args:
            path = _prefetch_path(context, argument)
            if path:
                relations.add(path.split("__")[0])
    return relations


def _prefetch_path(context: Any, argument: ast.expr) -> str | None:
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return argument.value
    if isinstance(argument, ast.Call) and argument.args:
        dotted = dotted_name(argument.func)
        qualified = context.project.resolve_bound(context.module, dotted) if dotted else None
        first = argument.args[0]
        if qualified in PREFETCH and isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def loop_regions(scope: ast.AST) -> Iterator[tuple[ast.AST, list[ast.AST], list[tuple[ast.expr, ast.expr]]]]:
    """Each loop in `scope` with the nodes that run once per iteration and its
    (target, iterable) pairs: a `for` body, a `while` test and body, a comprehension's
    element, conditions and inner iterables (its first iterable runs once)."""
    for node in ast.walk(scope):
        if isinstance(node, (ast.For, ast.AsyncFor)):
            yield node, list(node.body), [(node.target, node.iter)]
        elif isinstance(node, ast.While):
            yield node, [node.test, *node.body], []
        elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            yield node, _comprehension_region(node, [node.elt]), [(g.target, g.iter) for g in node.generators]
        elif isinstance(node, ast.DictComp):
            yield node, _comprehension_region(node, [node.key, node.value]), [(g.target, g.iter) for g in node.generators]


def _comprehension_region(node: Any, elements: list[ast.AST]) -> list[ast.AST]:
    region = list(elements)
    for index, generator in enumerate(node.generators):
        region.extend(generator.ifs)
        if index:
            region.append(generator.iter)
    return region


def evaluated_in(context: Any, region: list[ast.AST]) -> list[tuple[ast.AST, Chain | None, str]]:
    """The query evaluations inside `region`: (where to report, the chain, how it runs).

    An evaluator call (`.get()`, `.count()`, `.exists()`...), iterating a queryset or a
    related manager's `.all()` (`for`, a comprehension, `list()`, `len()`, `in`), and
    `get_object_or_404`. A chain that is only built (`qs = qs.filter(tag=t)`) is not
    evaluated and is not counted.
    """
    found: list[tuple[ast.AST, Chain | None, str]] = []
    for root in region:
        for node in _walk_same_function(root):
            if isinstance(node, ast.Call) and not isinstance(node.func, ast.Attribute):
                dotted = dotted_name(node.func)
                qualified = context.project.resolve(context.module, dotted) if dotted else ""
                if qualified in ("django.shortcuts.get_object_or_404", "django.shortcuts.aget_object_or_404",
                                 "django.shortcuts.get_list_or_404"):
                    found.append((node, None, dotted))
                elif dotted in EVALUATING_BUILTINS and len(node.args) == 1 and not node.keywords:
                    found.extend(_iterated(context, node.args[0], f"{dotted}()"))
            elif isinstance(node, ast.Call):
                chain = chain_at(context, node)
                if chain is not None and chain.node is node and chain.evaluates:
                    found.append((node, chain, f".{chain.methods[-1]}()"))
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                found.extend(_iterated(context, node.iter, "for"))
            elif isinstance(node, ast.comprehension):
                found.extend(_iterated(context, node.iter, "for"))
            elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
                for comparator in node.comparators:
                    found.extend(_iterated(context, comparator, "in"))
            elif isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
                found.extend(_iterated(context, node.value, "[]"))
    return found


def _iterated(context: Any, iterable: ast.expr, how: str) -> list[tuple[ast.AST, Chain | None, str]]:
    """`iterable` as a query evaluated by iterating it: a queryset chain or expression,
    or a name bound to one (reported where that chain starts)."""
    if isinstance(iterable, (ast.Call, ast.Subscript)):
        chain = chain_at(context, iterable)
        if chain is not None and chain.node is iterable and not chain.evaluates and not chain.writes:
            return [(iterable, chain, how)]
        return []
    if isinstance(iterable, ast.Name):
        origin = latest_binding(context, iterable, iterable.id)
        if origin is not None and origin.kind == "assign" and isinstance(origin.node, (ast.Call, ast.Subscript)):
            chain = chain_at(context, origin.node)
            if chain is not None and not chain.evaluates and not chain.writes:
                return [(origin.node, chain, how)]
    return []


def _walk_same_function(root: ast.AST) -> Iterator[ast.AST]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
