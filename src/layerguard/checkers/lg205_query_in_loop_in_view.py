from __future__ import annotations

import ast
from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.typemodel.bindings import latest_binding
from layerguard.typemodel.models import model_graph
from layerguard.typemodel.queries import (
    PREFETCH_SERVED, chain_at, evaluated_in, leaves_loop_after, loop_regions, prefetch_path, prefetched_relations)
from layerguard.violation import Violation


class QueryInLoopInView(Rule):
    """## What it does
    Flags a view that runs a query once per iteration of a `for` or `while` loop or a
    comprehension: the N+1 shape, including a lazily loaded foreign key. A query runs when a chain ends in `.get()`,
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
    shape and is left to LG204; nor is a query after which the loop is always left
    (`return`, `raise`, `break` in its block), which runs once. Dicts, caches and lists
    (`data.get(k)`, `rows.count(x)`) are never queries. One finding per query, where its
    chain starts.

    A forward foreign key or one-to-one read on each row (`item.order.total`) is a query
    per row too (Django loads it lazily), and is flagged where layerguard can see that
    nothing loaded it: the loop iterates a chain that starts at the model's default
    manager (the model declares no manager of its own), calls only Django's queryset
    methods, and neither `select_related` nor `prefetch_related` names the relation
    (a bare `select_related()` follows every non-null key: silent). `item.order_id` is
    no query.

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
        # A forward foreign key read on each row of a queryset that did not load it.
        Example("""
            from shop.models import Item, Order

            def item_list(request):
                rows = []
                for item in Item.objects.filter(sku__startswith="A").order_by("sku"):
                    rows.append((item.sku, item.order.total, item.order.paid))  # expect
                totals = [order.customer.name for order in Order.objects.select_related("customer__user")]
                names = [order.customer.name for order in Order.objects.prefetch_related("tags")]  # expect
                return rows, totals, names
            """),
    ]
    VALID = [
        # Loaded with the rows, not a relation, or rows whose loading layerguard cannot read.
        Example("""
            from django.core.cache import cache
            from django.db.models import Prefetch

            from shop.models import Item, Order
            from shop.selectors import paid_items

            def item_list(request):
                rows = [(item.order.total, item.order_id) for item in Item.objects.select_related("order")]
                for item in Item.objects.prefetch_related(Prefetch("order", queryset=Order.objects.all())):
                    rows.append(item.order.paid)
                for row in Item.objects.values("sku", "order__total"):
                    rows.append(row)
                for item in Item.objects.filter(sku="a"):
                    rows.append((item.sku, item.order_id, item.pk))
                for item in paid_items():
                    rows.append(item.order.total)
                for item in Item.objects.select_related():
                    rows.append(item.order.total)
                for item in Item.objects.all():
                    item = cache.get(f"item:{item.pk}")
                    rows.append(item.order)
                return rows
            """, files={"shop/selectors.py": "def paid_items():\n    return []\n"}),
        Example("""
            from django.db import models

            class ItemManager(models.Manager):
                def get_queryset(self):
                    return super().get_queryset().select_related("order")

            class Order(models.Model):
                total = models.IntegerField(default=0)

            class Item(models.Model):
                order = models.ForeignKey(Order, on_delete=models.CASCADE)
                objects = ItemManager()
            """, path="shop/models.py", files={"shop/views.py": (
                "from shop.models import Item\n\n\ndef item_list(request):\n"
                "    return [item.order.total for item in Item.objects.all()]\n")}),
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
        # A different model each iteration: no single query could replace them.
        Example("""
            from django.apps import apps

            def missing_prerequisites(request):
                missing = []
                for label in request.GET.getlist("model"):
                    model = apps.get_model(label)
                    if not model.objects.exists():
                        missing.append(label)
                return missing
            """),
        # A query after which the loop is left runs once: a search over lookups.
        Example("""
            from django.shortcuts import get_object_or_404

            from shop.models import Order

            def order_detail(request, **kwargs):
                for field in ("pk", "total"):
                    if field in kwargs:
                        return get_object_or_404(Order, **{field: kwargs[field]})
                for name in request.GET.getlist("customer"):
                    if name:
                        order = Order.objects.filter(customer__name=name).first()
                        break
                raise ValueError("no key")
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
            if chain is not None and _model_varies(chain, varying):
                continue  # `model.objects.exists()` per model: no one query spans the tables
            if leaves_loop_after(context, scope, loop, where):
                continue  # runs once, then the loop is left: a search, not the N+1 shape
            reported.add(id(start))
            display = chain.first.display() if chain is not None else f"{how}()"
            yield context.violation(
                code, start,
                f"`{display}` runs a query on every iteration of a loop in {layer} (N+1); "
                f"fetch the rows in one query in a selector in {hint}",
            )
    for read, variable, model in lazy_relations_in_loops(context, loops):
        yield context.violation(
            code, read,
            f"`{variable}.{read.attr}` loads a `{model.rsplit('.', 1)[-1]}` on every iteration of a loop in {layer} "
            f"(a lazy foreign key, N+1); load it with select_related(\"{read.attr}\") in a selector in {hint}",
        )


# Queryset methods that keep rows model instances and load no relation on their own: a
# chain of only these (after `Model.objects`) says everything about what is loaded.
PLAIN_METHODS = {"all", "filter", "exclude", "order_by", "distinct", "reverse", "annotate", "alias", "using",
                 "select_related", "prefetch_related", "only", "defer", "iterator", "[]"}


def lazy_relations_in_loops(context: FileContext, loops) -> Iterable[tuple[ast.Attribute, str, str]]:
    """`item.product` in a loop over `Item.objects...` whose chain neither
    select_related nor prefetch_related `product`: Django loads it with one query per row.
    Only where the model can tell: the loop iterates a chain that starts at a model's
    default manager (no custom manager declared in the project, which may load it) and
    calls only Django's own queryset methods with literal paths; the attribute is a
    forward foreign key or a one-to-one of that model; the loop variable is not rebound.
    Yields (the first such read per loop and relation, the loop variable, its model)."""
    graph = model_graph(context.project)
    if "prefetch_related_objects" in context.source.decode("utf-8", "replace"):
        return  # rows loaded elsewhere (`prefetch_related_objects(orders, "customer")`)
    for loop, region, targets in loops:
        for target, iterable in targets:
            if not isinstance(target, ast.Name):
                continue
            loaded = _loaded_relations(context, iterable)
            if loaded is None:
                continue
            model, relations = loaded
            if _rebinds(region, target.id):
                continue
            seen: set[str] = set()
            for root in region:
                for node in ast.walk(root):
                    if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                            and node.value.id == target.id and isinstance(node.ctx, ast.Load)):
                        continue
                    if node.attr in seen or node.attr in relations:
                        continue
                    relation = graph.relation(model, node.attr)
                    if relation is None or relation.kind != "instance" or relation.target is None:
                        continue
                    seen.add(node.attr)
                    yield node, target.id, relation.target


def _loaded_relations(context: FileContext, iterable: ast.expr) -> tuple[str, set[str]] | None:
    """(the rows' model, the relations the chain loads with them), or None when the
    iterable is not a chain whose loading layerguard can read in full."""
    chain = None
    if isinstance(iterable, (ast.Call, ast.Subscript)):
        chain = chain_at(context, iterable)
    elif isinstance(iterable, ast.Name):
        origin = latest_binding(context, iterable, iterable.id)
        if origin is not None and origin.kind == "assign" and isinstance(origin.node, (ast.Call, ast.Subscript)):
            chain = chain_at(context, origin.node)
    if chain is None or chain.first.kind != "manager" or not chain.model:
        return None
    if not all(name in PLAIN_METHODS for name, _ in chain.query_methods()):
        return None
    info = context.project.model_info(chain.model)
    if info is None or info.external or set(info.managers) - {"objects", "_default_manager", "_base_manager"} \
            or info.managers.count("objects") > 1:
        return None  # a custom manager's get_queryset may select_related anything
    relations: set[str] = set()
    for name, link in chain.query_methods():
        if name not in ("select_related", "prefetch_related") or not isinstance(link, ast.Call):
            continue
        if link.keywords or not link.args:
            return None  # `select_related()` follows every non-null foreign key
        for argument in link.args:
            path = prefetch_path(context, argument) if name == "prefetch_related" else (
                argument.value if isinstance(argument, ast.Constant) and isinstance(argument.value, str) else None)
            if path is None:
                return None
            relations.add(path.split("__")[0])
    return chain.model, relations


def _rebinds(region: list[ast.AST], name: str) -> bool:
    return any(isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store)
               for root in region for node in ast.walk(root))


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


def _model_varies(chain, varying: set[str]) -> bool:
    """The query's model is the loop's own variable (`for model in models:
    model.objects.exists()`): a different table each time."""
    start = chain.first.start
    return isinstance(start, ast.Attribute) and isinstance(start.value, ast.Name) and start.value.id in varying \
        and chain.first.kind == "manager"


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
