from __future__ import annotations

from typing import Iterable

from layerguard.checkers.app_boundaries import DEFAULT_ALLOW, CrossAppReference, allowed_apps, relation_references
from layerguard.checkers.base import Example, FileContext, Rule, Span
from layerguard.violation import Violation

APPS = {
    "billing/__init__.py": "",
    "billing/apps.py": "from django.apps import AppConfig\n\nclass BillingConfig(AppConfig):\n    name = 'billing'\n    label = 'payments'\n",
    "core/__init__.py": "",
    "core/models.py": "from django.db import models\n\nclass Country(models.Model):\n    code = models.CharField(max_length=2)\n",
}


class CrossAppForeignKey(Rule):
    """## What it does
    Flags a `ForeignKey`, `OneToOneField` or `ManyToManyField` (or its `through=` model)
    from a model of one Django app to a model of another, whether the target is an
    imported class, a `"label.Model"` string, `settings.AUTH_USER_MODEL` or
    `get_user_model()`.

    ## Why is this bad?
    A foreign key is the tightest coupling two apps can have: a shared table constraint,
    joins across app boundaries, migrations that depend on each other, and no way to
    split the app out later. Apps that talk through services keep each other's ids,
    not each other's rows (the "no cross-app foreign keys" rule of modular monoliths).
    Import linters (import-linter, tach) cannot see this: a string reference imports
    nothing.

    How references are resolved: a class through the project's imports; `"label.Model"`
    by app label (`AppConfig.label`, else the directory name); a bare `"Model"` as
    Django does, in the app of the concrete model; `settings.AUTH_USER_MODEL` read
    statically from the settings modules, else `auth.User`. A field declared on an
    abstract base model or mixin counts for every concrete model that inherits it, for
    that model's app, and is one violation where the field is written, naming every
    concrete model that inherits it across the boundary; an M2M whose target and
    `through=` model are both in other apps is one violation too, naming both. Django's `auth`, `contenttypes`
    and `sites` are allowed by default; `allow` replaces that list. Allowing `auth` allows
    the user model wherever `AUTH_USER_MODEL` puts it (a custom `accounts.User`): Django
    asks every app to point at `settings.AUTH_USER_MODEL`, and only that model of its app
    is allowed. Models of third-party packages are not apps of yours and are not reported.

    ## Example
    ```python
    # billing/models.py
    class Invoice(models.Model):
        order = models.ForeignKey("shop.Order", on_delete=models.PROTECT)
    ```

    ## Use instead
    ```python
    # billing/models.py
    class Invoice(models.Model):
        order_id = models.PositiveBigIntegerField(db_index=True)

    # billing/services.py
    def invoice_create(*, order_id: int) -> Invoice:
        order = order_get(order_id=order_id)  # shop/selectors.py
        ...
    ```
    """

    code = "LG401"
    name = "cross-app-foreign-key"
    OPTIONS = {"allow": (list, DEFAULT_ALLOW)}

    INVALID = [
        Example("""
            from django.conf import settings
            from django.db import models
            from shop.models import Order

            class Invoice(models.Model):
                order = models.OneToOneField(Order, on_delete=models.PROTECT)  # expect
                items = models.ManyToManyField("shop.Item", through="payments.InvoiceLine")  # expect
                payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
                country = models.ForeignKey("core.Country", on_delete=models.PROTECT)  # expect

            class InvoiceLine(models.Model):
                invoice = models.ForeignKey("Invoice", on_delete=models.CASCADE)
                item = models.ForeignKey(to="shop.Item", on_delete=models.CASCADE)  # expect
            """, path="billing/models.py", files=APPS),
        Example("""
            from django.db import models

            class Audited(models.Model):
                created_by = models.ForeignKey("shop.Customer", on_delete=models.PROTECT)  # expect

                class Meta:
                    abstract = True

            class Payment(Audited):
                amount = models.IntegerField()

            class Refund(Audited):
                amount = models.IntegerField()
            """, path="billing/models.py", files=APPS),
        Example("""
            from django.db import models

            class AbstractInvoice(models.Model):
                order = models.ForeignKey("shop.Order", on_delete=models.PROTECT)  # expect

                class Meta:
                    abstract = True
            """, path="billing/abstract_models.py", files={
                **APPS,
                # django-oscar's layout: the concrete model's base arrives through a star import.
                "billing/models.py": "from billing.abstract_models import *\n\nclass Invoice(AbstractInvoice):\n    pass\n",
            }),
    ]
    VALID = [
        Example("""
            from django.contrib.auth import get_user_model
            from django.db import models

            class Invoice(models.Model):
                country = models.ForeignKey("core.Country", on_delete=models.PROTECT)
                owner = models.ForeignKey(get_user_model(), on_delete=models.PROTECT)
                parent = models.ForeignKey("self", null=True, on_delete=models.CASCADE)
                sibling = models.ForeignKey("Invoice", null=True, on_delete=models.CASCADE)
                tags = models.ManyToManyField("taggit.Tag")
            """, path="billing/models.py", files={
                **APPS, "pyproject.toml": '[tool.layerguard.lint.LG401]\nallow = ["auth", "core"]\n'}),
        Example("""
            class Graph:
                ForeignKey = None

            class Edge:
                def __init__(self):
                    self.ForeignKey = "shop.Order"
            """, path="billing/models.py", files=APPS),
        Example("""
            from django.db import models

            class Report(models.Model):
                order = models.ForeignKey("shop.Order", on_delete=models.CASCADE)
            """, path="shop/reports.py"),
        Example("""
            from django.conf import settings
            from django.db import models

            class Invoice(models.Model):
                payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
                approver = models.ForeignKey("accounts.User", on_delete=models.PROTECT)
            """, path="billing/models.py", files={
                **APPS,
                # A custom user model in an app of its own: still "the user model" that `auth` allows.
                "accounts/__init__.py": "",
                "accounts/models.py": (
                    "from django.contrib.auth.models import AbstractUser\n\nclass User(AbstractUser):\n    pass\n"),
                "config/__init__.py": "",
                "config/settings.py": "INSTALLED_APPS = ['accounts', 'billing', 'shop']\nAUTH_USER_MODEL = 'accounts.User'\n",
            }),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        if not any(cls.fields for cls in context.facts.classes):
            # Relations are reported where their field is written: a file that declares no
            # field has none, and need not build the project's model registry to say so.
            return
        allowed = allowed_apps(context.settings, self.code)
        user_model = context.project.user_model
        # One field, one violation: a field on an abstract base names every concrete model
        # that inherits it, and an M2M whose `through=` model is in another app too says both.
        grouped: dict[tuple, list[CrossAppReference]] = {}
        for reference in relation_references(context.project, context.path):
            if reference.path != context.path or reference.target_app in allowed:
                continue
            if reference.target == user_model and "auth" in allowed:
                continue  # settings.AUTH_USER_MODEL, wherever it lives, is what `auth` allows
            grouped.setdefault((reference.line, reference.column, reference.declared), []).append(reference)
        for references in grouped.values():
            first = references[0]
            inheritors = sorted({r.inherited_by for r in references if r.inherited_by})
            inherited = f" (inherited by {', '.join(inheritors)})" if inheritors else ""
            targets = _labels(r for r in references if r.kind == "field")
            through = _labels(r for r in references if r.kind == "through")
            if targets:
                relation = f"is a {first.field_type} to {targets}" + (f" through {through}" if through else "")
            else:
                relation = f"goes through {through}"
            sources = ", ".join(sorted({r.source_app for r in references}))
            target_apps = ", ".join(sorted({r.target_app for r in references}))
            plural = "models" if len({r.target for r in references}) > 1 else "a model"
            span = Span(first.line, first.column - 1, first.end_line, first.end_column - 1)
            yield context.violation(
                self.code, span,
                f"{first.declared}{inherited} {relation}, {plural} of another app ({sources} -> {target_apps}); "
                f"store its id and go through {target_apps}'s services or selectors",
            )


def _labels(references) -> str:
    return ", ".join(sorted({reference.target_label for reference in references}))
