from __future__ import annotations

from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.typemodel.queries import OWN_QUERY, Chain, chains_in, complexity, owner_key, subquery_owner
from layerguard.violation import Violation

DEFAULT_MAX_CHAIN = 4
DEFAULT_MAX_RELATED_PATHS = 3


class ComplexQueryInView(Rule):
    """## What it does
    Flags a view that builds a query beyond a plain lookup: a queryset chain of more
    than `max-chain` calls (default 4; `.all()` and slices do not count), or any use of
    `annotate`, `aggregate`, `alias`, `raw` or `extra`, of `Subquery`, `OuterRef`,
    `Exists`, `Window` or `RawSQL`, or more than `max-related-paths` (default 3)
    `select_related` / `prefetch_related` paths. One finding per query, where the query
    starts, even when it is built over several statements (`qs = Order.objects.filter(...)`
    then `qs = qs.annotate(...)`) or reads subqueries bound to names (`newest =
    Item.objects.filter(order=OuterRef("pk"))...`, then `.annotate(n=Subquery(newest))`).

    ## Why is this bad?
    Reads belong in selectors as writes belong in services (HackSoft Django Styleguide,
    "Selectors"): one place to look for how an entity is fetched, reusable by a task or
    another API, and a query that can be tested and optimised on its own. A view that
    assembles annotations and subqueries hides the read model inside HTTP handling.

    A plain lookup stays silent: `get_object_or_404(Order, pk=pk)`,
    `Order.objects.get(pk=pk)`, `Order.objects.filter(customer=request.user.customer)`,
    a class-level `queryset = Order.objects.all()`, and a selector's result passed on or
    narrowed. Only what the type model knows to be a manager, queryset or related
    manager is a query: `cache.get()`, a dict's `.values()` or a list's `.count()` never
    are. Selectors are named in the message (`shop/selectors.py`, or the module of the
    app matching `selector-modules`).

    ## Example
    ```python
    class DashboardView(LoginRequiredMixin, View):
        def get(self, request):
            orders = (
                Order.objects.filter(user=request.user)
                .filter(status__in=["paid", "shipped"])
                .select_related("shipping_address")
                .prefetch_related("items__product")
                .annotate(item_count=Count("items"), total=F("subtotal") + F("tax"))
                .order_by("-created_at")[:10]
            )
            ...
    ```

    ## Use instead
    ```python
    # shop/selectors.py
    def user_active_orders(*, user: User) -> QuerySet[Order]:
        return (
            Order.objects.filter(user=user, status__in=["paid", "shipped"])
            .annotate(item_count=Count("items"))
            .order_by("-created_at")
        )

    # shop/views.py
    orders = user_active_orders(user=request.user)[:10]
    ```
    """

    code = "LG204"
    name = "complex-query-in-view"
    OPTIONS = {"max-chain": (int, DEFAULT_MAX_CHAIN), "max-related-paths": (int, DEFAULT_MAX_RELATED_PATHS)}

    INVALID = [
        Example("""
            from django.db.models import Count, F
            from django.views import View

            from shop.models import Order

            class DashboardView(View):
                def get(self, request):
                    orders = (
                        Order.objects.filter(paid=True)  # expect
                        .filter(total__gt=0)
                        .select_related("customer")
                        .prefetch_related("items")
                        .annotate(item_count=Count("items"), doubled=F("total") * 2)
                        .order_by("-id")[:10]
                    )
                    return orders
            """, path="shop/dashboard.py"),
        Example("""
            from django.db.models import Exists, OuterRef, Sum
            from rest_framework.decorators import api_view

            from shop.models import Item, Order

            @api_view(["GET"])
            def order_stats(request):
                totals = Order.objects.aggregate(total=Sum("total"))  # expect
                with_items = Order.objects.filter(Exists(Item.objects.filter(order=OuterRef("pk"))))  # expect
                raw = Order.objects.raw("SELECT * FROM shop_order")  # expect
                return totals, with_items, raw
            """),
        Example("""
            from django.db.models import Count

            from shop.models import Order

            def order_report(request):
                orders = Order.objects.filter(paid=True)  # expect
                if request.GET.get("big"):
                    orders = orders.filter(total__gt=100)
                orders = orders.annotate(n=Count("items"))
                return orders.order_by("-n")
            """),
        # A subquery bound to a name is part of the query that reads it: one finding, where
        # the outer query starts; when the outer queryset cannot be typed (a parameter),
        # where its first subquery starts.
        Example("""
            from django.db.models import Count, OuterRef, Subquery

            from shop.models import Item, Order

            def order_report(request):
                newest = Item.objects.filter(order=OuterRef("pk")).order_by("-id").values("sku")[:1]
                counted = Subquery(Item.objects.filter(order=OuterRef("pk")).values("order").annotate(n=Count("pk")))
                return Order.objects.filter(paid=True).annotate(newest_sku=Subquery(newest), n=counted)  # expect

            def annotate_orders(request, queryset, tree):
                counts = Item.objects.filter(order=OuterRef("pk")).values("order").annotate(n=Count("pk"))  # expect
                newest = Item.objects.filter(order=OuterRef("pk")).order_by("-id").values("sku")[:1]
                if tree:
                    oldest = Item.objects.filter(order=OuterRef("pk")).order_by("id").values("sku")[:1]
                else:
                    oldest = None
                queryset = queryset.annotate(item_count=Subquery(counts.values("n")))
                return queryset.annotate(newest_sku=Subquery(newest), oldest_sku=Subquery(oldest))
            """),
        Example("""
            from shop.models import Order

            def order_list(request):
                return Order.objects.filter(paid=True).exclude(total=0).filter(customer__name="a").order_by("id").distinct()  # expect
            """),
        Example("""
            from shop.models import Order

            def order_list(request):
                return Order.objects.filter(paid=True).order_by("id").distinct()  # expect
            """, files={"pyproject.toml": "[tool.layerguard.lint.LG204]\nmax-chain = 2\n"}),
        Example("""
            from shop.models import Item

            def item_list(request):
                return Item.objects.select_related("order", "order__customer").prefetch_related("order__tags", "order__items")  # expect
            """, files={"shop/selectors/__init__.py": "", "shop/selectors/orders.py": ""}),
    ]
    VALID = [
        # Plain lookups, the class-level queryset, a selector's result passed on.
        Example("""
            from django.shortcuts import get_object_or_404
            from rest_framework import generics

            from shop.models import Order
            from shop.selectors import user_active_orders

            class OrderDetail(generics.RetrieveAPIView):
                queryset = Order.objects.all()

            def order_detail(request, pk):
                order = get_object_or_404(Order, pk=pk)
                same = Order.objects.get(pk=pk)
                mine = Order.objects.filter(customer__user=request.user)
                recent = user_active_orders(user=request.user)[:10]
                return order, same, mine, recent.filter(paid=True)
            """, files={"shop/selectors.py": "def user_active_orders(*, user):\n    return []\n"}),
        # Look-alikes: dicts, caches and lists have methods named like queryset ones.
        Example("""
            from django.core.cache import cache

            def summary(request):
                data = {"a": 1}
                rows = [1, 2, 2]
                totals = sorted(data.values())
                return cache.get("k"), data.get("a"), rows.count(2), totals, data.items()
            """),
        # The same query in a selector is where it belongs.
        Example("""
            from django.db.models import Count

            from shop.models import Order

            def order_report():
                return Order.objects.filter(paid=True).annotate(n=Count("items")).order_by("-n")
            """, path="shop/selectors.py"),
        Example("""
            from shop.models import Order

            def order_list(request):
                return Order.objects.filter(paid=True).exclude(total=0).select_related("customer").order_by("id")
            """),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        if not context.project.has_delivery_code(context.path):
            return
        max_chain = context.settings.option(self.code, "max-chain", DEFAULT_MAX_CHAIN)
        max_related = context.settings.option(self.code, "max-related-paths", DEFAULT_MAX_RELATED_PATHS)
        hint = context.project.selector_module_hint(context.path)
        for function in context.project.view_functions(context.path):
            node = context.function_node(function)
            if node is None:
                continue
            yield from complex_queries(context, node, self.code, "a view", hint, max_chain, max_related)


def complex_queries(context: FileContext, scope, code: str, layer: str, hint: str,
                    max_chain: int, max_related: int) -> Iterable[Violation]:
    """One violation per query in `scope` that is more than a lookup (LG204, LG304)."""
    # Keyed by the node where the query starts: its continuations (`qs = qs.filter(...)`)
    # are the same query, and so are the subqueries bound to a name and read inside it.
    queries: dict[object, _Query] = {}
    owners: dict[int, object] = {}
    for chain in chains_in(context, scope):
        if chain.writes:
            continue  # a write is LG101's
        first = chain.first
        query = queries.setdefault(id(first.node), _Query(first))
        owner = subquery_owner(context, scope, chain)
        if owner is not None:  # every chain of the query must agree on one outer query
            known = owners.setdefault(id(first.node), owner)
            if known is not OWN_QUERY and (owner is OWN_QUERY or owner_key(known) != owner_key(owner)):
                owners[id(first.node)] = OWN_QUERY
        found = complexity(context, chain, max_chain, max_related)
        query.add(found.features, found.length if found.too_long else 0)
    # Fold each subquery into the query that reads it (an outer query layerguard cannot
    # type is keyed by the name it is built on; its first subquery stands for it).
    merged: dict[object, _Query] = {}
    for key, query in list(queries.items()):  # owners not seen as chains are added
        if not query.reasons and not query.longest:
            continue
        target = key
        for _ in range(10):
            owner = owners.get(target) if isinstance(target, int) else None
            if owner is None or owner is OWN_QUERY:
                break
            target = id(owner.node) if isinstance(owner, Chain) else owner
            if isinstance(owner, Chain):
                queries.setdefault(target, _Query(owner))
        anchor = queries[target].first if target in queries else query.first
        outer = merged.setdefault(target, _Query(anchor))
        if (query.first.node.lineno, query.first.node.col_offset) < (outer.first.node.lineno,
                                                                     outer.first.node.col_offset) \
                and target not in queries:
            outer.first = query.first
        outer.add(query.reasons, query.longest)
    for query in merged.values():
        reasons = [*query.reasons, *([f"{query.longest} chained calls"] if query.longest else [])]
        yield context.violation(
            code, query.first.node,
            f"`{query.first.display()}` builds a query beyond a lookup in {layer} ({', '.join(reasons)}); "
            f"move it to a selector in {hint}",
        )


class _Query:
    """One query's reasons to be more than a lookup, gathered over its chains."""

    def __init__(self, first: Chain):
        self.first, self.reasons, self.longest, self.related = first, [], 0, 0

    def add(self, features: list[str], longest: int) -> None:
        for reason in features:
            paths = _related_paths(reason)
            if paths:  # the most loader paths any of its chains had, said once
                self.related = max(self.related, paths)
                self.reasons = [r for r in self.reasons if not _related_paths(r)]
                reason = f"{self.related} select/prefetch_related paths"
            if reason not in self.reasons:
                self.reasons.append(reason)
        self.longest = max(self.longest, longest)


def _related_paths(reason: str) -> int:
    number, _, rest = reason.partition(" ")
    return int(number) if number.isdigit() and rest == "select/prefetch_related paths" else 0
