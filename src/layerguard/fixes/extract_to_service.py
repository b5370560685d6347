"""LG101's fix (unsafe): move the write into a service function and call it.

`order.paid = True; order.save()` in a view becomes

    # shop/services.py
    def order_pay(*, order: Order) -> None:
        order.paid = True
        order.save()

    # shop/views.py
    order_pay(order=order)

The region is the write statement, widened to the run of consecutive statements
that write the same model or set attributes on the written object just before it
(`order.paid = True`). Only a statement that *is* the write (an expression
statement, an assignment of its result, `return <write>`) moves; a write inside a
larger expression has no fix.
"""

from __future__ import annotations

import ast
import re

from layerguard.checkers.base import FileContext
from layerguard.fixes.examples import Fixed, NotFixed
from layerguard.fixes.regions import Refusal, Region, enclosing_function, statement_at
from layerguard.violation import Violation

KIND = "write"
DESCRIPTION = "extract to a service function"
VERBS = {"save": "update", "create": "create", "delete": "delete", "update": "update", "bulk_create": "bulk_create",
         "bulk_update": "bulk_update", "get_or_create": "get_or_create", "update_or_create": "update_or_create",
         "add": "add", "remove": "remove", "set": "set", "clear": "clear", "create_user": "create",
         "create_superuser": "create", "execute": "execute", "executemany": "execute"}


def region_for(context: FileContext, violation: Violation) -> Region | Refusal:
    line = violation.line
    byte_column = len(context.line_bytes(line).decode("utf-8", "replace")[:violation.column - 1].encode())
    call = _call_at(context, line, byte_column)
    if call is None:
        return Refusal("the write is not a plain call")
    function = enclosing_function(context.tree, line, byte_column)
    if function is None:
        return Refusal("the write is not inside a function")
    found = statement_at(function, line)
    if found is None:
        return Refusal("the write is not a statement of the function")
    block, index = found
    statement = block[index]
    returns_value = False
    if isinstance(statement, ast.Return) and statement.value is call:
        returns_value = True
    elif not _is_the_write(statement, call):
        return Refusal("the write is part of a larger expression or statement")
    write = context.types.write_of(call)
    model = write.model if write else None
    method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    start, stop = index, index + 1
    if method in ("execute", "executemany"):
        # Raw SQL through `with connection.cursor() as cursor:` moves with its cursor:
        # a service that takes a cursor is no service.
        holder = _cursor_block(function, block, _root_name(call.func.value))
        if holder is not None:
            block, index = holder
            table_model, verb = _raw_sql_target(context, call)
            return Region(KIND, function, block, index, index + 1, table_model, verb)
    if not returns_value:
        root = _root_name(call.func.value) if isinstance(call.func, ast.Attribute) else None

        def member(candidate: ast.stmt) -> str | None:
            write_call = _statement_write(candidate)
            if write_call is not None:
                other = context.types.write_of(write_call)
                if other is not None and other.model == model and model is not None:
                    return "write"
            if root and _sets_attribute_of(candidate, root):
                return "attribute"
            return None

        while start > 0 and member(block[start - 1]):
            start -= 1
        while stop < len(block) and member(block[stop]):
            stop += 1
        while stop - 1 > index and member(block[stop - 1]) == "attribute":
            stop -= 1
    verb = VERBS.get(method, method)
    if method == "save" and start < index:
        verb = "update"
    return Region(KIND, function, block, start, stop, model, verb, returns_value=returns_value)


def _call_at(context: FileContext, line: int, byte_column: int) -> ast.Call | None:
    for node in context.nodes_at(line, byte_column):
        if isinstance(node, ast.Call):
            # A chain `Order.objects.filter(...).update(...)` starts where `Order` does;
            # the outermost call starting here is the write.
            outer = node
            for other in context.nodes_at(line, byte_column):
                if isinstance(other, ast.Call) and (other.end_lineno, other.end_col_offset) > \
                        (outer.end_lineno, outer.end_col_offset):
                    outer = other
            return outer
    return None


def _is_the_write(statement: ast.stmt, call: ast.Call) -> bool:
    if isinstance(statement, ast.Expr):
        return statement.value is call
    if isinstance(statement, ast.Assign):
        return statement.value is call and all(_plain_target(t) for t in statement.targets)
    if isinstance(statement, ast.AnnAssign):
        return statement.value is call and isinstance(statement.target, ast.Name)
    return False


def _plain_target(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return True
    return isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts)


def _statement_write(statement: ast.stmt) -> ast.Call | None:
    value = getattr(statement, "value", None)
    if isinstance(statement, (ast.Expr, ast.Assign)) and isinstance(value, ast.Call) and \
            isinstance(value.func, ast.Attribute) and (not isinstance(statement, ast.Assign)
                                                        or all(_plain_target(t) for t in statement.targets)):
        return value
    return None


def _sets_attribute_of(statement: ast.stmt, root: str) -> bool:
    """`order.paid = True` (a plain attribute of the written object, value without calls
    that could themselves write)."""
    if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
        return False
    target = statement.targets[0]
    return isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == root


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


RAW_SQL_WRITE = re.compile(r"^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+[\"`]?(\w+)", re.IGNORECASE)
SQL_VERBS = {"insert": "create", "update": "update", "delete": "delete"}


def _raw_sql_target(context: FileContext, call: ast.Call) -> tuple[str | None, str]:
    """`DELETE FROM payments_invoice ...` -> (the Invoice model, "delete"), by Django's
    default table name `<app label>_<model name>`; (None, "execute") when unknown."""
    sql = call.args[0] if call.args else None
    if not (isinstance(sql, ast.Constant) and isinstance(sql.value, str)):
        return None, "execute"
    found = RAW_SQL_WRITE.match(sql.value)
    if found is None:
        return None, "execute"
    verb = SQL_VERBS[found.group(1).split()[0].lower()]
    table = found.group(2).lower()
    for qualified, info in context.project.models.items():
        if info.app and f"{info.app}_{info.name.lower()}" == table:
            return qualified, verb
    return None, verb


def _cursor_block(function, block: list[ast.stmt], cursor: str | None):
    """The `with ...cursor() as <cursor>:` statement whose body is `block`, with its block."""
    for node in ast.walk(function):
        for field_name in ("body", "orelse", "finalbody"):
            statements = getattr(node, field_name, None)
            if not isinstance(statements, list):
                continue
            for index, statement in enumerate(statements):
                if isinstance(statement, ast.With) and statement.body is block and any(
                        isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == cursor
                        for item in statement.items):
                    return statements, index
    return None


FIXED = [
    # A value of another app's model is passed on without an annotation: annotating it
    # would import billing's model into shop's services (a new LG402).
    Fixed(before={
        "billing/__init__.py": "",
        "billing/apps.py": "from django.apps import AppConfig\n\n\nclass BillingConfig(AppConfig):\n    name = \"billing\"\n",
        "billing/models.py": ("from django.db import models\n\n\nclass Invoice(models.Model):\n"
                              "    order = models.OneToOneField(\"shop.Order\", on_delete=models.CASCADE, "
                              "related_name=\"invoice\")\n"),
        "shop/views.py": """
        from shop.models import Order


        def pay(request, pk):
            invoice = Order.objects.get(pk=pk).invoice
            invoice.save()
            return invoice.pk
        """}, after={"shop/views.py": """
        from shop.models import Order
        from shop.services import invoice_pay


        def pay(request, pk):
            invoice = Order.objects.get(pk=pk).invoice
            invoice_pay(invoice=invoice)
            return invoice.pk
        """, "shop/services.py": '''
        """Services: the writes of this app (layerguard --fix moved some here)."""


        def invoice_pay(*, invoice) -> None:
            invoice.save()
        '''}),
    # Attribute assignments before the save move with it; the parameter is typed; the
    # verb comes from the view's name; services.py is created with its imports.
    Fixed(before={"shop/views.py": """
        from django.shortcuts import get_object_or_404
        from rest_framework.decorators import api_view
        from rest_framework.response import Response

        from shop.models import Order


        @api_view(["POST"])
        def pay_order(request, pk):
            order = get_object_or_404(Order, pk=pk)
            # paid now
            order.paid = True
            order.save()
            return Response(status=204)
        """}, after={"shop/views.py": """
        from django.shortcuts import get_object_or_404
        from rest_framework.decorators import api_view
        from rest_framework.response import Response

        from shop.models import Order
        from shop.services import order_pay


        @api_view(["POST"])
        def pay_order(request, pk):
            order = get_object_or_404(Order, pk=pk)
            # paid now
            order_pay(order=order)
            return Response(status=204)
        """, "shop/services.py": '''
        """Services: the writes of this app (layerguard --fix moved some here)."""
        from shop.models import Order


        def order_pay(*, order: Order) -> None:
            order.paid = True
            order.save()
        '''}),
    # The result is used afterwards: returned and assigned; an import only the moved
    # code used leaves the view; an existing service with the same body is reused.
    Fixed(before={"shop/views.py": """
        from shop.models import Order


        def create_order(request):
            order = Order.objects.create(total=1)
            return order.pk


        def create_another(request):
            Order.objects.filter(paid=False).delete()
        """, "shop/services.py": """
        from shop.models import Order


        def order_delete() -> None:
            Order.objects.filter(paid=False).delete()
        """}, after={"shop/views.py": """
        from shop.services import order_create, order_delete


        def create_order(request):
            order = order_create()
            return order.pk


        def create_another(request):
            order_delete()
        """, "shop/services.py": """
        from shop.models import Order


        def order_delete() -> None:
            Order.objects.filter(paid=False).delete()


        def order_create() -> Order:
            order = Order.objects.create(total=1)
            return order
        """}),
    # A relative import only the moved code used leaves the file too (a management
    # command reaching its app's models by `..`).
    Fixed(before={"shop/management/__init__.py": "", "shop/management/commands/__init__.py": "",
                  "shop/management/commands/purge.py": """
        from django.core.management.base import BaseCommand

        from ...models import Order


        class Command(BaseCommand):
            def handle(self, *args, **options):
                Order.objects.filter(paid=False).delete()
        """}, after={"shop/management/commands/purge.py": """
        from django.core.management.base import BaseCommand
        from shop.services import order_delete


        class Command(BaseCommand):
            def handle(self, *args, **options):
                order_delete()
        """, "shop/services.py": '''
        """Services: the writes of this app (layerguard --fix moved some here)."""
        from shop.models import Order


        def order_delete() -> None:
            Order.objects.filter(paid=False).delete()
        '''}),    # A file in a directory without `__init__.py` inside the app (a namespace package)
    # imports the service by the app's name, not by a path that climbs out of its directory.
    Fixed(before={"shop/importers/csv_rows.py": """
        from shop.models import Order


        def import_rows(rows):
            for row in rows:
                Order.objects.create(total=row)
        """}, after={"shop/importers/csv_rows.py": """
        from shop.services import order_create


        def import_rows(rows):
            for row in rows:
                order_create(row=row)
        """, "shop/services.py": '''
        """Services: the writes of this app (layerguard --fix moved some here)."""
        from shop.models import Order


        def order_create(*, row) -> None:
            Order.objects.create(total=row)
        '''}),
]

NOT_FIXED = [
    NotFixed("""
        from shop.models import Order

        def pay(request, pk):
            if Order.objects.filter(pk=pk).update(paid=True):
                return None
        """, "part of a larger expression"),
    NotFixed("""
        from shop.models import Order

        def rename(request):
            request.user.first_name = "x"
            request.user.save()
        """, "request"),
    NotFixed("""
        from shop.models import Order

        class OrderView:
            def post(self, request):
                Order.objects.create(total=self.total)
        """, "`self`"),
    NotFixed("""
        from shop.models import Order

        def bump(request, pk):
            total = 1
            total = Order.objects.filter(pk=pk, total=total).update(total=total + 1)
            return total
        """, "rebinds"),
    NotFixed("""
        from billing.models import Invoice
        from shop.models import Order

        def pay(request, pk):
            Invoice.objects.create(order_id=pk)
        """, "a model of the app `billing`", files={
            "billing/__init__.py": "",
            "billing/apps.py": "from django.apps import AppConfig\n\n\nclass BillingConfig(AppConfig):\n    name = \"billing\"\n",
            "billing/models.py": "from django.db import models\n\n\nclass Invoice(models.Model):\n    order_id = models.IntegerField()\n",
        }),
]
