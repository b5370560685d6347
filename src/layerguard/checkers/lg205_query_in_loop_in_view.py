from __future__ import annotations

import ast
from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.typemodel.queries import PREFETCH_SERVED, evaluated_in, loop_regions, prefetched_relations
from layerguard.violation import Violation


class QueryInLoopInView(Rule):
    """## What it does
    Flags a view that runs a query once per iteration of a `for` or `while` loop or a
    comprehension: the N+1 shape. A query runs when a chain ends in `.get()`,
    `.first()`, `.last()`, `.latest()`, `.exists()`, `.count()`, `.aggregate()`,
    `.in_bulk()` (or their async forms), when a queryset or a related manager's
    `.all()` is iterated (`for`, a comprehension, `list()`, `len()`, `in`, an index),
    and on `get_object_or_404`; and the query reads something that changes from one
    iteration to the next (the loop variable, or a name computed from it).

    ## Why is this bad?
    One query per row is the slowest way to read a list, and it hides in plain sight:
    each call looks cheap. Fetching the rows in one query (`in_bulk`, `filter(pk__in=...)`,
    `prefetch_related`) belongs in a selector (HackSoft Django Styleguide, "Selectors"),
    where it can be tested with `assertNumQueries` and reused.

    Building a query in a loop without running it (`qs = qs.filter(tags=tag)`) is not
    a query per iteration and stays silent. So do reads of a relation the iterated
    queryset prefetched (`for order in Order.objects.prefetch_related("items")`, then
    `order.items.all()`, `.count()` or `.exists()`), and loops over something the type
    model cannot tell is a queryset, whose relations may have been prefetched elsewhere:
    unknown means silence. A query that reads nothing the loop changes (a loop that
    dispatches over kinds, each branch running its own query once) is not the N+1
    shape and is left to LG204. Dicts, caches and lists (`data.get(k)`, `rows.count(x)`) are
    never queries. One finding per query, where its chain starts.

    ## Example
    ```python
    class OrderCreateView(APIView):
        def post(self, request):
            for item in request.data["items"]:
                product = Product.objects.get(pk=item["product_id"])
                ...
    ```

    ## Use instead
    ```python
    # shop/selectors.py
    def products_by_id(*, ids) -> dict[int, Product]:
        return Product.objects.in_bulk(ids)

    # shop/views.py
    products = products_by_id(ids=[item["product_id"] for item in items])
    for item in items:
        product = products[item["product_id"]]
    ```
    """

    code = "LG205"
    name = "query-in-loop-in-view"

    INVALID = [
        Example("""
            from rest_framework.views import APIView

            from shop.models import Order

            class OrderTotals(APIView):
                def post(self, request):
                    totals = []
                    for pk in request.data["orders"]:
                        order = Order.objects.get(pk=pk)  # expect
                        totals.append(order.total)
                    return totals
            """, path="shop/api/orders.py", files={"shop/api/__init__.py": ""}),
        Example("""
            from django.shortcuts import get_object_or_404

            from shop.models import Item, Order

            def order_lines(request):
                orders = Order.objects.filter(paid=True)
                rows = [(order.pk, order.items.count()) for order in orders]  # expect
                skus = {pk: Item.objects.filter(order_id=pk).first() for pk in request.GET.getlist("pk")}  # expect
                for order in orders:
                    for item in order.items.all():  # expect
                        print(item)
                    lines = Item.objects.filter(order=order)  # expect
                    print(list(lines))
                    get_object_or_404(Order, pk=order.pk)  # expect
                page = 0
                while request.GET.get("more"):
                    page += 1
                    if Order.objects.filter(pk=page).exists():  # expect
                        break
                return rows, skus
            """),
    ]
    VALID = [
        Example("""
            from django.contrib.contenttypes.models import ContentType
            from django.core.cache import cache
            from django.db.models import Prefetch

            from shop.models import Item, Order, Tag

            def order_lines(request):
                orders = Order.objects.filter(paid=True)
                for tag in request.GET.getlist("tag"):
                    orders = orders.filter(tags__name=tag)
                data = {"a": 1}
                rows = [1, 2]
                for key in ["a", "b"]:
                    cache.get(key)
                    data.get(key)
                    rows.count(key)
                prefetched = Order.objects.prefetch_related("items", Prefetch("tags", queryset=Tag.objects.all()))
                for order in prefetched:
                    print(order.items.all(), order.items.count(), [tag.name for tag in order.tags.all()])
                    ContentType.objects.get_for_model(order)  # cached by ContentType's manager
                items = Item.objects.filter(order__in=orders)
                for order in orders[:10]:
                    print(items)
                # A dispatch over kinds: each branch's query reads nothing that varies.
                results = {}
                for kind in ["orders", "items"]:
                    if kind == "orders":
                        results[kind] = list(Order.objects.filter(paid=True).values("pk"))
                return orders, results
            """),
        Example("""
            from shop.models import Order

            def order_totals(ids):
                return [Order.objects.get(pk=pk).total for pk in ids]
            """, path="shop/selectors.py"),
        Example("""
            from shop.selectors import order_list

            def order_lines(request):
                return [[item.sku for item in order.items.all()] for order in order_list()]
            """, files={"shop/selectors.py": "def order_list():\\n    return []\\n"}),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        if not context.project.has_delivery_code(context.path):
            return
        hint = context.project.selector_module_hint(context.path)
        for function in context.project.view_functions(context.path):
            node = context.function_node(function)
            if node is not None:
                yield from queries_in_loops(context, node, self.code, "a view", hint)


def queries_in_loops(context: FileContext, scope: ast.AST, code: str, layer: str, hint: str) -> Iterable[Violation]:
    """One violation per query evaluated once per iteration of a loop in `scope`."""
    reported: set[int] = set()
    loops = list(loop_regions(scope))
    # Loop variables of every loop here: a read in an inner loop may be of an outer one's.
    prefetched = _prefetched_by_loop_variable(context, [pair for _, _, targets in loops for pair in targets])
    for loop, region, targets in loops:
        varying = _loop_variant_names(loop, region, targets)
        for where, chain, how in evaluated_in(context, region):
            start = chain.first.node if chain is not None else where
            if id(start) in reported:
                continue
            if not (_names_in(_query_parts(chain, where)) & varying):
                continue  # the same query each time (a dispatch over kinds): not the N+1 shape
            if chain is not None and _served_by_prefetch(chain, prefetched):
                continue
            reported.add(id(start))
            display = chain.first.display() if chain is not None else f"{how}()"
            yield context.violation(
                code, start,
                f"`{display}` runs a query on every iteration of a loop in {layer} (N+1); "
                f"fetch the rows in one query in a selector in {hint}",
            )


def _prefetched_by_loop_variable(context: FileContext, targets) -> dict[str, set[str] | None]:
    """loop variable -> relations its iterable prefetched (None when not known)."""
    found: dict[str, set[str] | None] = {}
    for target, iterable in targets:
        if isinstance(target, ast.Name):
            relations = prefetched_relations(context, iterable)
            if target.id in found:  # the same name in two loops: either may have prefetched
                relations = None if relations is None or found[target.id] is None else relations | found[target.id]
            found[target.id] = relations
    return found


def _served_by_prefetch(chain, prefetched: dict[str, set[str] | None]) -> bool:
    """`order.items.all()` / `.count()` / `.exists()` where the loop over `order`
    prefetched `items`: Django answers from the prefetch cache."""
    start = chain.first.start
    if not (isinstance(start, ast.Attribute) and isinstance(start.value, ast.Name)):
        return False
    name = start.value.id
    if name not in prefetched or not all(method in PREFETCH_SERVED for method in chain.first.methods):
        return False
    relations = prefetched[name]
    # None: the loop's iterable is not a queryset layerguard can read (a selector's result,
    # `self.get_queryset()`); it may have prefetched, and unknown means silence.
    return relations is None or start.attr in relations


def _loop_variant_names(loop: ast.AST, region: list[ast.AST], targets) -> set[str]:
    """Names whose value changes from one iteration to the next: the loop's targets
    (for a `while`, whatever its body assigns), and names assigned from those, to a
    fixed point. A query reading none of them is the same query every time."""
    assignments: list[tuple[set[str], ast.AST | None]] = []
    for root in region:
        for node in ast.walk(root):
            if isinstance(node, ast.Assign):
                assignments.append((_names_in(node.targets), node.value))
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                assignments.append((_names_in([node.target]), node.value))
            elif isinstance(node, ast.NamedExpr):
                assignments.append((_names_in([node.target]), node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                assignments.append((_names_in([node.target]), node.iter))
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        assignments.append((_names_in([item.optional_vars]), item.context_expr))
    if isinstance(loop, ast.While):
        return {name for names, _ in assignments for name in names}
    varying = _names_in([target for target, _ in targets])
    changed = True
    while changed:
        changed = False
        for names, value in assignments:
            if not names <= varying and value is not None and _names_in([value]) & varying:
                varying |= names
                changed = True
    return varying


def _query_parts(chain, where: ast.AST) -> list[ast.AST]:
    """What a query reads: where its first chain starts and every call's arguments."""
    if chain is None:
        return [where]
    parts: list[ast.AST] = [chain.first.start]
    for _, link in chain.query_methods():
        if isinstance(link, ast.Call):
            parts.extend([*link.args, *(keyword.value for keyword in link.keywords)])
        elif isinstance(link, ast.Subscript):
            parts.append(link.slice)
    return parts


def _names_in(nodes) -> set[str]:
    return {node.id for root in nodes if root is not None for node in ast.walk(root) if isinstance(node, ast.Name)}
