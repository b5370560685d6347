from __future__ import annotations

import ast
from typing import Iterable

from layerguard.checkers.app_boundaries import DEFAULT_ALLOW, allowed_apps, import_references
from layerguard.checkers.base import Example, FileContext, Rule, Span, interpolate
from layerguard.checkers.lg401_cross_app_foreign_key import APPS
from layerguard.facts import dotted_name
from layerguard.semgrep import SemgrepMatch, SemgrepRule
from layerguard.violation import Violation

DJANGO_APPS_REGISTRY = {"django.apps.apps", "django.apps.registry.apps"}


class CrossAppModelImport(Rule):
    """## What it does
    Flags a module of one Django app that imports another app's models
    (`from orders.models import Order`, `import orders.models`, `from orders import models`,
    a model class re-exported elsewhere) or loads one by name with
    `apps.get_model("orders", "Order")` (or a project's own `get_model("orders", "Order")`
    loader, as django-oscar has). One violation per import statement.

    ## Why is this bad?
    Reaching into another app's models means depending on its tables: every query you
    write against them is a contract the other app cannot see or change. Apps should
    talk through each other's services and selectors, which say what is offered
    (HackSoft Django Styleguide, "Services" and "Selectors"; the modular-monolith rule
    that an app's models are private).

    Migrations and tests are exempt, and so are model modules (a relation field there is
    LG401's business, and the import only serves it). An import under
    `if TYPE_CHECKING:` (`typing.TYPE_CHECKING`, `t.TYPE_CHECKING` after
    `import typing as t`, `TC` after `from typing import TYPE_CHECKING as TC`) is not
    coupling at run time: only type checkers follow it. Its `else:` branch runs and counts. Imports of the apps in `allow`
    (default Django's `auth`, `contenttypes`, `sites`) are fine. Import statements come
    from layerguard's facts; `get_model` calls are found by
    `rules/LG402-cross-app-model-import.yaml` and their label resolved to an app.

    ## Example
    ```python
    # billing/services.py
    from shop.models import Order

    def invoice_create(*, order_id: int):
        order = Order.objects.get(pk=order_id)
    ```

    ## Use instead
    ```python
    # billing/services.py
    from shop.selectors import order_get

    def invoice_create(*, order_id: int):
        order = order_get(order_id=order_id)
    ```
    """

    code = "LG402"
    name = "cross-app-model-import"
    OPTIONS = {"allow": (list, DEFAULT_ALLOW)}
    semgrep_file = "LG402-cross-app-model-import.yaml"

    INVALID = [
        Example("""
            import shop.models  # expect
            from shop.models import Order, Item  # expect
            from shop import models as shop_models  # expect
            from shop.selectors import order_list

            def invoice_create(*, order_id: int):
                return order_list()
            """, path="billing/services.py", files={**APPS, "shop/selectors.py": "def order_list():\n    return []\n"}),
        Example("""
            from django.apps import apps

            def order_model():
                return apps.get_model("shop", "Order")  # expect

            def item_model():
                return apps.get_model("shop.Item")  # expect
            """, path="billing/utils.py", files=APPS),
        Example("""
            from core.loading import get_model

            Order = get_model("shop", "Order")  # expect
            """, path="billing/views.py", files={**APPS, "core/loading.py": "def get_model(label, name):\n    pass\n"}),
        Example("""
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from shop.models import Order
            else:
                from shop.models import Item  # expect

            if not TYPE_CHECKING:
                import shop.models  # expect
            """, path="billing/utils.py", files=APPS),
    ]
    VALID = [
        Example("""
            from django.apps import apps
            from django.contrib.auth.models import User
            from billing.models import Invoice
            from core.models import Country
            from shop.services import order_create

            def invoice_model():
                return apps.get_model("payments", "Invoice")
            """, path="billing/services.py", files={
                **APPS,
                "billing/models.py": "from django.db import models\n\nclass Invoice(models.Model):\n    pass\n",
                "shop/services.py": "def order_create():\n    pass\n",
                "pyproject.toml": '[tool.layerguard.lint.LG402]\nallow = ["auth", "core"]\n',
            }),
        Example("""
            from shop.models import Order

            def test_invoice_for_order():
                assert Order
            """, path="billing/tests/test_invoices.py", files=APPS),
        Example("""
            from django.db import models
            from shop.models import Order

            class Invoice(models.Model):
                order = models.ForeignKey(Order, on_delete=models.PROTECT)
            """, path="billing/models.py", files=APPS),
        Example("""
            from __future__ import annotations

            import typing
            import typing as t
            from typing import TYPE_CHECKING
            from typing import TYPE_CHECKING as TC

            if TYPE_CHECKING:
                from shop.models import Order
            if typing.TYPE_CHECKING:
                from shop.models import Item
            if t.TYPE_CHECKING:
                import shop.models
            if TC:
                from shop import models as shop_models

            def invoice_total(order: Order, item: Item) -> int:
                return 0
            """, path="billing/utils.py", files=APPS),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        project = context.project
        if project.is_model_module(context.path):
            return
        allowed = allowed_apps(context.settings, self.code)
        for reference in import_references(project, context.module):
            if reference.target_app in allowed:
                continue
            end_column = len(context.line_bytes(reference.end_line).rstrip(b"\r\n"))
            span = Span(reference.line, reference.column - 1, reference.end_line, end_column)
            yield context.violation(
                self.code, span,
                f"imports {reference.description} of another app ({reference.source_app} -> "
                f"{reference.target_app}); use {reference.target_app}'s services or selectors",
            )

    def check_match(self, match: SemgrepMatch, rule: SemgrepRule, context: FileContext) -> Violation | None:
        project = context.project
        source = project.app_of(context.path)
        if source is None or project.is_model_module(context.path):
            return None
        start, end = context.position(match.start_offset), context.position(match.end_offset)
        for call in context.calls_within(start, end):
            callee = dotted_name(call.func)
            if not callee or not callee.endswith("get_model"):
                continue
            receiver = callee.rpartition(".")[0]
            qualified = project.resolve_bound(context.module, callee)
            if receiver and project.resolve_bound(context.module, receiver) in DJANGO_APPS_REGISTRY:
                pass  # django.apps.apps.get_model
            elif not receiver and qualified and qualified.endswith(".get_model"):
                receiver = qualified.rpartition(".")[0]  # a project's loader (oscar.core.loading)
            else:
                return None
            labels = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if not labels:
                return None
            label, _, model = labels[0].partition(".")
            model = model or (labels[1] if len(labels) > 1 else "")
            if label == source.label or label in allowed_apps(context.settings, self.code):
                return None
            if project.app_by_label(label) is None:
                return None
            message = interpolate(rule.message, {"APPS": receiver})
            return context.violation(
                self.code, call,
                f"{message} ({label}.{model}: {source.label} -> {label}); use {label}'s services or selectors",
            )
        return None
