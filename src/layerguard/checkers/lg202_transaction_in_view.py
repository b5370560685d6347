from __future__ import annotations

from collections.abc import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.checkers.transactions import renamed_atomic_violations, transaction_violation
from layerguard.semgrep import SemgrepMatch, SemgrepRule
from layerguard.violation import Violation


class TransactionInView(Rule):
    """## What it does
    Flags `transaction.atomic` or `select_for_update()` in a view. `atomic` counts as a
    decorator (`@transaction.atomic`, `@method_decorator(transaction.atomic, ...)`) or a
    context manager (`with transaction.atomic():`); `select_for_update()` only works
    inside a transaction.

    ## Why is this bad?
    Where a transaction starts and ends is part of the business operation, not of the
    HTTP layer (HackSoft Django Styleguide, "Services"): a service that needs atomicity
    must have it whoever calls it, a task or a command included. A transaction opened in
    the view also spans serialization and rendering, holding locks longer than needed.

    `transaction.on_commit` and `non_atomic_requests` are not flagged; `atomic` is
    resolved through imports, so `from django.db import transaction as tx` counts and an
    `atomic` from another library does not. The semgrep patterns live in
    `rules/LG202-transaction-in-view.yaml`, shared with LG303; layerguard decides which
    layer a match is in. `atomic` imported under a name not ending in `atomic`
    (`from django.db.transaction import atomic as locked`) is found by a Python walk of
    the file instead, since the YAML filters on the written name.

    ## Example
    ```python
    class OrderPay(APIView):
        def post(self, request, pk):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=pk)
                ...
    ```

    ## Use instead
    ```python
    # shop/services.py
    @transaction.atomic
    def order_pay(*, order_id: int) -> Order:
        order = Order.objects.select_for_update().get(pk=order_id)
        ...
    ```
    """

    code = "LG202"
    name = "transaction-in-view"
    fix_kind = "extract-transaction"
    fix_safety = "unsafe"
    semgrep_file = "LG202-transaction-in-view.yaml"

    INVALID = [
        Example("""
            from django.db import transaction as tx
            from rest_framework.views import APIView
            from shop.models import Order

            class OrderPay(APIView):
                def post(self, request, pk):
                    with tx.atomic():  # expect
                        Order.objects.select_for_update().get(pk=pk)  # expect
            """),
        Example("""
            from django.db.transaction import atomic
            from rest_framework.decorators import api_view

            @api_view(["POST"])
            @atomic  # expect
            def refund(request):
                return None
            """, path="shop/routes.py"),
        Example("""
            from django.db import transaction
            from django.utils.decorators import method_decorator
            from django.views.generic import UpdateView

            @method_decorator(transaction.atomic, name="dispatch")  # expect
            class OrderEdit(UpdateView):
                pass
            """, path="shop/web.py"),
        Example("""
            from django.db.transaction import atomic as locked
            from django.utils.decorators import method_decorator
            from rest_framework import generics

            class OrderCancel(generics.GenericAPIView):
                @method_decorator(locked(using="default"))  # expect
                def post(self, request, pk):
                    with open("audit.log"), locked():  # expect
                        return None
            """),
        Example("""
            from django.db import transaction
            from django.http import JsonResponse

            def order_close(request, pk):
                with transaction.atomic():  # expect
                    return JsonResponse({"closed": pk})
            """, path="shop/api.py"),
    ]
    VALID = [
        Example("""
            from django.db import transaction
            from rest_framework.decorators import api_view

            @api_view(["POST"])
            @transaction.non_atomic_requests
            def hook(request):
                transaction.on_commit(lambda: None)
            """),
        Example("""
            from contextlib import nullcontext as atomic

            def preview(request):
                with atomic():
                    return None
            """),
        Example("""
            from django.db import transaction
            from shop.models import Order

            @transaction.atomic
            def order_pay(*, order_id: int) -> Order:
                with transaction.atomic():
                    return Order.objects.select_for_update().get(pk=order_id)
            """, path="shop/services.py"),
        Example("""
            from django.db import transaction
            from shop.models import Order

            # A package's Python API (django-cms's cms/api.py), not a web API: no view in it.
            @transaction.atomic
            def create_order(total, paid=False):
                return Order.objects.create(total=total, paid=paid)

            def can_change_order(request):
                return request.user.is_staff
            """, path="shop/api.py"),
    ]

    def check_match(self, match: SemgrepMatch, rule: SemgrepRule, context: FileContext) -> Violation | None:
        return transaction_violation(self.code, "view", match, rule, context)

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        return renamed_atomic_violations(self.code, "view", context)
