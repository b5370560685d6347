from __future__ import annotations

from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule, Span
from layerguard.discover import PathMatcher
from layerguard.project import _absolute
from layerguard.violation import Violation

REQUEST_TYPES = {
    "django.http.HttpRequest", "django.http.request.HttpRequest", "django.core.handlers.wsgi.WSGIRequest",
    "django.core.handlers.asgi.ASGIRequest", "rest_framework.request.Request",
}
DELIVERY_PACKAGES = (
    "django.http", "rest_framework.request", "rest_framework.response", "rest_framework.views",
    "rest_framework.serializers", "rest_framework.generics", "rest_framework.viewsets",
)
DELIVERY_MODULE_GLOBS = ["**/serializers.py", "**/serializers/**/*.py", "**/urls.py"]


class HttpInService(Rule):
    """## What it does
    Flags a service or selector that takes a request (a parameter named `request`, or
    annotated `HttpRequest` / DRF `Request`), and a service or selector module that
    imports the delivery layer: `django.http`, `rest_framework.request`, `.response`,
    `.views`, `.serializers`, `.generics`, `.viewsets`, or a views, serializers or urls
    module of the project (a `urls.py` counts when it defines `urlpatterns`). One
    violation per function and per import statement. An import under
    `if TYPE_CHECKING:` is for annotations only and is not reported (a parameter
    annotated with what it imports still is).

    ## Why is this bad?
    Services are the business layer: they take plain arguments so that a view, a task, a
    management command and a test can all call them (HackSoft Django Styleguide,
    "Services": keyword-only arguments, no request). A service that reads
    `request.data` or returns a `Response` can only ever be called from a view, and the
    layering the rest of layerguard enforces runs backwards.

    ## Example
    ```python
    # shop/services.py
    from rest_framework.response import Response

    def order_create(request):
        order = Order.objects.create(customer=request.user.customer, **request.data)
        return Response({"id": order.id})
    ```

    ## Use instead
    ```python
    # shop/services.py
    def order_create(*, customer: Customer, total: Decimal) -> Order:
        return Order.objects.create(customer=customer, total=total)
    ```
    and let the view read the request and build the response.
    """

    code = "LG501"
    name = "http-in-service"

    INVALID = [
        Example("""
            from django.http import HttpRequest, JsonResponse  # expect
            from rest_framework.response import Response  # expect
            from shop.serializers import OrderSerializer  # expect

            def order_create(request, total):  # expect
                return total

            def order_pay(*, http: HttpRequest, order_id: int):  # expect
                return order_id
            """, path="shop/services.py"),
        Example("""
            from rest_framework.request import Request  # expect

            class OrderSelector:
                def list(self, incoming: Request):  # expect
                    return []
            """, path="shop/selectors/orders.py", files={"shop/selectors/__init__.py": ""}),
    ]
    VALID = [
        Example("""
            from django.core.exceptions import ValidationError
            from rest_framework.exceptions import PermissionDenied
            from shop.models import Order

            def order_create(*, customer_id: int, requested_total: int) -> Order:
                if requested_total < 0:
                    raise ValidationError("negative")
                return Order.objects.create(customer_id=customer_id, total=requested_total)
            """, path="shop/services.py"),
        Example("""
            from django.http import JsonResponse

            def order_list(request):
                return JsonResponse({})
            """),
        Example("""
            from shop.utils.urls import absolute_url

            def order_link(*, order_id: int) -> str:
                return absolute_url(f"/orders/{order_id}")
            """, path="shop/services.py", files={
                # taiga's layout: a urls.py of helpers, not a URLconf (no urlpatterns).
                "shop/utils/__init__.py": "",
                "shop/utils/urls.py": "def absolute_url(path):\n    return 'https://example.com' + path\n",
            }),
        Example("""
            from typing import TYPE_CHECKING

            if TYPE_CHECKING:
                from shop.serializers import OrderSerializer

            def order_export(*, rows: list) -> "list[OrderSerializer]":
                return rows
            """, path="shop/services.py"),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        project, path = context.project, context.path
        if not (project.is_service_module(path) or project.is_selector_module(path)):
            return
        layer = "service" if project.is_service_module(path) else "selector"
        delivery_modules = PathMatcher([*context.settings.view_modules, *DELIVERY_MODULE_GLOBS])
        module = context.module
        package = module.name if module.is_package else module.name.rpartition(".")[0]
        for fact in context.facts.imports:
            if fact.type_checking:
                continue  # for annotations only: no delivery code is imported at run time
            base = _absolute(fact.module, fact.level, package)
            targets = [base] if fact.names is None else [f"{base}.{name}" for name, _ in fact.names]
            for target in targets:
                imported = project.modules_by_name.get(project.canonical(target)) or project.modules_by_name.get(base)
                is_delivery = target.startswith(DELIVERY_PACKAGES) or (
                    imported is not None and delivery_modules.matches(imported.path)
                    # a urls.py is a URLconf only if it has urlpatterns (taiga's base/utils/urls.py is a helper)
                    and (not imported.path.endswith("urls.py") or "urlpatterns" in imported.facts.assigned))
                if is_delivery:
                    end_column = len(context.line_bytes(fact.end_line).rstrip(b"\r\n"))
                    yield context.violation(
                        self.code, Span(fact.line, fact.column - 1, fact.end_line, end_column),
                        f"a {layer} module imports the delivery layer (`{target}`); "
                        "keep HTTP in views and pass plain values to services",
                    )
                    break
        for function in context.facts.functions:
            for name, annotation in function.params:
                resolved = project.resolve(module, annotation) if annotation else None
                if name == "request" or resolved in REQUEST_TYPES:
                    node = context.function_node(function)
                    if node is None:
                        break
                    yield context.violation(
                        self.code, context.def_line(node),
                        f"{layer} `{function.qualname}` takes a request (`{name}`); "
                        "take the values it needs as keyword arguments instead",
                    )
                    break
