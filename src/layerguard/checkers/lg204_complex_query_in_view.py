from __future__ import annotations

from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.typemodel.queries import chains_in, complexity
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
    then `qs = qs.annotate(...)`).

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
    # are the same query.
    reported: dict[int, tuple[object, list[str], int]] = {}
    for chain in chains_in(context, scope):
        if chain.writes:
            continue  # a write is LG101's
        found = complexity(context, chain, max_chain, max_related)
        if not found.reasons:
            continue
        first = chain.first
        _, reasons, longest = reported.setdefault(id(first.node), (first, [], 0))
        reasons.extend(reason for reason in found.features if reason not in reasons)
        reported[id(first.node)] = (first, reasons, max(longest, found.length if found.too_long else 0))
    for first, reasons, longest in reported.values():
        if longest:
            reasons = [*reasons, f"{longest} chained calls"]
        yield context.violation(
            code, first.node,
            f"`{first.display()}` builds a query beyond a lookup in {layer} ({', '.join(reasons)}); "
            f"move it to a selector in {hint}",
        )
