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
# Queryset methods whose arguments may hold a subquery (`annotate(n=Subquery(sub))`,
# `filter(pk__in=sub)`, `filter(Exists(sub))`).
SUBQUERY_TAKERS = {"filter", "exclude", "annotate", "alias", "aggregate", "order_by", "union", "intersection",
                   "difference", "get", "exists", "count", "first", "last"}
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


OWN_QUERY = "own query"  # subquery_owner's answer for a value read as a query of its own


def subquery_owner(context: Any, scope: ast.AST, chain: Chain) -> Any:
    """The query `chain`'s value is a subquery of, when that value is bound to a name read
    only inside another query's call arguments (`sub = Item.objects.filter(order=OuterRef(
    "pk"))`, then `Order.objects.annotate(n=Subquery(sub))`): the outer query's first
    chain, or, when the outer query is not one layerguard can type
    (`queryset.annotate(...)` on a parameter), a key for the name it is built on, so its
    subqueries are one query too. `OWN_QUERY` when the value is read as a query of its
    own (or by several queries); None when nothing reads it but its own continuation."""
    if chain.evaluates or chain.writes:
        return None
    assignment = _assignments(context, scope).get(id(_expression_around(context, scope, chain.node)))
    if assignment is None:  # `queryset.annotate(n=Subquery(sub.values("n")))`
        return _argument_of(context, scope, chain.node)
    name = assignment.targets[0].id
    owner = None
    parents = _parents(context, scope)
    for use in _loads(context, scope).get(name, ()):
        if (use.lineno, use.col_offset) <= (assignment.lineno, assignment.col_offset):
            continue
        if isinstance(parents.get(id(use)), ast.Attribute):
            continue  # `sub.values(...)`: the same query continued (its own chain's origin)
        origin = latest_binding(context, use, name)
        if origin is None or (origin.node is not assignment.value
                              and not _other_branch(parents, assignment, origin.node)):
            continue
        found = _argument_of(context, scope, use)
        if found is None:
            return OWN_QUERY  # read as a value of its own (returned, iterated, handed on)
        if owner is not None and owner_key(owner) != owner_key(found):
            return OWN_QUERY  # a subquery shared by several queries: a query of its own
        owner = found
    return owner


def owner_key(owner: Any) -> Any:
    """What identifies the query `subquery_owner` answered (its first chain's node)."""
    return id(owner.node) if isinstance(owner, Chain) else owner


def _expression_around(context: Any, scope: ast.AST, node: ast.AST) -> ast.AST:
    """`node`, or the Django expression wrapping it (`Subquery(<node>)`,
    `Coalesce(Subquery(<node>), 0)`): what a name holding a subquery is bound to."""
    parents = _parents(context, scope)
    current = node
    while True:
        parent = parents.get(id(current))
        if isinstance(parent, ast.keyword):
            parent = parents.get(id(parent))
        if not (isinstance(parent, ast.Call) and current is not parent.func):
            return current
        dotted = dotted_name(parent.func)
        qualified = context.project.resolve_bound(context.module, dotted) if dotted else None
        if not (qualified and qualified.startswith("django.db.models.")):
            return current
        current = parent


def _other_branch(parents: dict[int, ast.AST], assignment: ast.Assign, value: Any) -> bool:
    """Whether `value` is bound in the other branch of an `if` that binds `assignment`
    (`if tree: sub = X.objects...` / `else: sub = None`): the use may read either."""
    other = parents.get(id(value)) if value is not None else None
    if not isinstance(other, ast.Assign):
        return False
    def branches(node: ast.AST) -> dict[int, str]:
        found, child, parent = {}, node, parents.get(id(node))
        while parent is not None:
            if isinstance(parent, ast.If):
                found[id(parent)] = "body" if child in parent.body else "orelse"
            child, parent = parent, parents.get(id(parent))
        return found
    mine, theirs = branches(assignment), branches(other)
    return any(theirs.get(key) not in (None, side) for key, side in mine.items())


def _argument_of(context: Any, scope: ast.AST, use: ast.expr) -> Any:
    """What query the call argument `use` sits in, or None when it is not an argument."""
    parents = _parents(context, scope)
    child, node = use, parents.get(id(use))
    argument_of: ast.Call | None = None
    outermost: Chain | None = None
    while node is not None and not isinstance(node, ast.stmt):
        if isinstance(node, ast.Call) and child is not node.func:
            argument_of = argument_of or node
        if isinstance(node, (ast.Call, ast.Subscript)) and argument_of is not None:
            found = chain_at(context, node)
            if found is not None:
                outermost = found
        child, node = node, parents.get(id(node))
    if argument_of is None:
        return None
    if outermost is not None:
        return outermost.first
    # An untyped receiver (`queryset.annotate(...)`): key by the name the queryset
    # method is called on, back through its rebindings (`queryset = queryset.annotate(...)`).
    call: ast.AST | None = argument_of
    while call is not None and not isinstance(call, ast.stmt) and not (
            isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in SUBQUERY_TAKERS):
        call = parents.get(id(call))
    if call is None or isinstance(call, ast.stmt):
        return None  # handed to something that is not a query (a serializer, a response)
    root = call.func.value
    while isinstance(root, (ast.Attribute, ast.Call, ast.Subscript)):
        root = root.func if isinstance(root, ast.Call) else root.value
    if not isinstance(root, ast.Name):
        return ("call", id(call))
    at: ast.AST = call
    for _ in range(20):
        origin = latest_binding(context, at, root.id)
        if origin is None or origin.kind != "assign" or not isinstance(origin.node, ast.Call):
            break
        value_root = origin.node
        while isinstance(value_root, (ast.Attribute, ast.Call, ast.Subscript)):
            value_root = value_root.func if isinstance(value_root, ast.Call) else value_root.value
        if not (isinstance(value_root, ast.Name) and value_root.id == root.id):
            return ("bound", id(origin.node))
        at = origin.node
    return ("name", root.id, id(scope), getattr(origin, "kind", None))


def leaves_loop_after(context: Any, scope: ast.AST, loop: ast.AST, node: ast.AST) -> bool:
    """Whether running `node` in `loop` is always followed by leaving the loop: its
    statement is, or is followed in its own block by, a `return` or `raise` (or a `break`
    of this loop), with no `try` in between that could go on to the next iteration. Such
    a query runs at most once (`for field in ("pk", "slug"): if field in kwargs: return
    get_object_or_404(qs, **{field: kwargs[field]})`), not once per row."""
    parents = _parents(context, scope)
    statement: ast.AST | None = node
    while statement is not None and not isinstance(statement, ast.stmt):
        statement = parents.get(id(statement))
    if statement is None:
        return False
    block_owner = parents.get(id(statement))
    block = next((getattr(block_owner, name) for name in ("body", "orelse", "finalbody")
                  if statement in getattr(block_owner, name, ())), None)
    if block is None or isinstance(block_owner, ast.Try) and statement in block_owner.body:
        return False
    inner_loop = False
    current = block_owner
    while current is not None and current is not loop:
        if isinstance(current, (ast.Try, ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return False
        if isinstance(current, (ast.For, ast.AsyncFor, ast.While)):
            inner_loop = True
        current = parents.get(id(current))
    if current is None:
        return False
    rest = block[block.index(statement):]
    return any(isinstance(later, (ast.Return, ast.Raise)) or (isinstance(later, ast.Break) and not inner_loop)
               for later in rest)


def _scope_index(context: Any, scope: ast.AST) -> dict[str, Any]:
    key = ("scope-index", id(scope))
    if key not in context.memo:
        parents: dict[int, ast.AST] = {}
        assignments: dict[int, ast.Assign] = {}
        loads: dict[str, list[ast.Name]] = {}
        for node in ast.walk(scope):
            for child in ast.iter_child_nodes(node):
                parents[id(child)] = node
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                assignments[id(_unwrap(node.value))] = node
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                loads.setdefault(node.id, []).append(node)
        context.memo[key] = {"parents": parents, "assignments": assignments, "loads": loads}
    return context.memo[key]


def _parents(context: Any, scope: ast.AST) -> dict[int, ast.AST]:
    return _scope_index(context, scope)["parents"]


def _assignments(context: Any, scope: ast.AST) -> dict[int, ast.Assign]:
    return _scope_index(context, scope)["assignments"]


def _loads(context: Any, scope: ast.AST) -> dict[str, list[ast.Name]]:
    return _scope_index(context, scope)["loads"]


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
            path = prefetch_path(context, argument)
            if path:
                relations.add(path.split("__")[0])
    return relations


def prefetch_path(context: Any, argument: ast.expr) -> str | None:
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
