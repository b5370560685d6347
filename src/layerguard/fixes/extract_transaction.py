"""LG202 / LG303's fix (unsafe): a `with transaction.atomic():` block in a view or a
serializer becomes a service function decorated `@transaction.atomic`, called where
the block was. The rules are those of the LG101 fix (regions.py): no `return` or
other flow out of the block, names read become keyword-only parameters, names the
caller reads afterwards are returned. A `select_for_update()` inside such a block is
fixed by the same move. The decorator form on a view has no fix: the view's whole
body would move, request and response included.
"""

from __future__ import annotations

import ast

from layerguard.checkers.base import FileContext
from layerguard.fixes.examples import Fixed, NotFixed
from layerguard.fixes.regions import Refusal, Region, enclosing_function, statement_at
from layerguard.violation import Violation

KIND = "transaction"
DESCRIPTION = "extract the transaction into a @transaction.atomic service function"
ATOMIC = "django.db.transaction.atomic"


def region_for(context: FileContext, violation: Violation) -> Region | Refusal:
    line = violation.line
    function = enclosing_function(context.tree, line, 0)
    if function is None or (function.lineno == line and not _is_with_at(function, line)):
        return Refusal("a decorated view or serializer: its whole body would move, request and response included")
    found = statement_at(function, line)
    if found is None:
        return Refusal("not a statement of the function")
    block, index = found
    statement = block[index]
    while not (isinstance(statement, ast.With) and statement.lineno == line and _is_atomic(context, statement)):
        # select_for_update() inside an atomic block: the block's move fixes it too.
        outer = _enclosing_atomic(context, function, line)
        if outer is None:
            return Refusal("no `with transaction.atomic():` block to move around it")
        block, index = outer
        statement = block[index]
        break
    if len(statement.items) != 1 or statement.items[0].optional_vars is not None:
        return Refusal("the `with` has other context managers or binds a name")
    atomic_call = statement.items[0].context_expr
    if not isinstance(atomic_call, ast.Call) or atomic_call.args or atomic_call.keywords:
        return Refusal("`atomic(...)` takes arguments: the decorator would have to repeat them")
    model = _first_model(context, statement)
    region = Region(KIND, function, block, index, index + 1, model, "", decorator="@transaction.atomic")
    return region


def _is_with_at(function, line: int) -> bool:
    return any(isinstance(n, ast.With) and n.lineno == line for n in ast.walk(function))


def _is_atomic(context: FileContext, statement: ast.With) -> bool:
    if len(statement.items) < 1:
        return False
    expression = statement.items[0].context_expr
    target = expression.func if isinstance(expression, ast.Call) else expression
    from layerguard.facts import dotted_name

    dotted = dotted_name(target)
    return bool(dotted) and context.project.resolve(context.module, dotted) == ATOMIC


def _enclosing_atomic(context: FileContext, function, line: int):
    block = function.body
    found = None
    while True:
        index = next((i for i, s in enumerate(block) if s.lineno <= line <= (s.end_lineno or s.lineno)), None)
        if index is None:
            return found
        statement = block[index]
        if isinstance(statement, ast.With) and _is_atomic(context, statement) and statement.lineno != line:
            found = (block, index)
        inner = next((getattr(statement, f) for f in ("body", "orelse", "finalbody")
                      if getattr(statement, f, None) and any(
                          s.lineno <= line <= (s.end_lineno or s.lineno) for s in getattr(statement, f))), None)
        if inner is None or isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return found
        block = inner


def _first_model(context: FileContext, statement: ast.With) -> str | None:
    """The model the block writes (else reads) first: the service is named after it."""
    calls = sorted((n for n in ast.walk(statement) if isinstance(n, ast.Call)), key=lambda c: (c.lineno, c.col_offset))
    for call in calls:
        write = context.types.write_of(call)
        if write is not None and write.model:
            return write.model
    for call in calls:
        for node in (call, call.func, getattr(call.func, "value", None)):
            found = context.types.type_of(node) if node is not None else None
            if found is not None and found.model:
                return found.model
    return None


FIXED = [
    Fixed(before={"shop/views.py": """
        from django.db import transaction
        from rest_framework.decorators import api_view
        from rest_framework.response import Response

        from shop.models import Order


        @api_view(["POST"])
        def refund_order(request, pk):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=pk)
                order.paid = False
                order.save()
            return Response({"id": order.pk})
        """}, after={"shop/views.py": """
        from rest_framework.decorators import api_view
        from rest_framework.response import Response
        from shop.services import order_refund


        @api_view(["POST"])
        def refund_order(request, pk):
            order = order_refund(pk=pk)
            return Response({"id": order.pk})
        """, "shop/services.py": '''
        """Services: the writes of this app (layerguard --fix moved some here)."""
        from django.db import transaction
        from shop.models import Order


        @transaction.atomic
        def order_refund(*, pk) -> Order:
            order = Order.objects.select_for_update().get(pk=pk)
            order.paid = False
            order.save()
            return order
        '''}),
    # LG303: a serializer's transaction; the method `create` names the verb.
    Fixed(before={"shop/serializers.py": """
        from django.db import transaction
        from rest_framework import serializers

        from shop.models import Order


        class OrderSerializer(serializers.ModelSerializer):
            class Meta:
                model = Order
                fields = ["total", "paid"]

            def create(self, validated_data):
                with transaction.atomic():
                    order = Order.objects.create(**validated_data)
                    order.paid = True
                    order.save()
                return order
        """}, after={"shop/serializers.py": """
        from rest_framework import serializers

        from shop.models import Order
        from shop.services import order_create


        class OrderSerializer(serializers.ModelSerializer):
            class Meta:
                model = Order
                fields = ["total", "paid"]

            def create(self, validated_data):
                order = order_create(validated_data=validated_data)
                return order
        """, "shop/services.py": '''
        """Services: the writes of this app (layerguard --fix moved some here)."""
        from django.db import transaction
        from shop.models import Order


        @transaction.atomic
        def order_create(*, validated_data) -> Order:
            order = Order.objects.create(**validated_data)
            order.paid = True
            order.save()
            return order
        '''}),
]

NOT_FIXED = [
    NotFixed("""
        from django.db import transaction
        from shop.models import Order

        def close(request, pk):
            with transaction.atomic():
                order = Order.objects.select_for_update().get(pk=pk)
                return order.total
        """, "`return`"),
    NotFixed("""
        from django.db import transaction
        from rest_framework.decorators import api_view

        @api_view(["POST"])
        @transaction.atomic
        def refund(request):
            return None
        """, "decorated"),
]
