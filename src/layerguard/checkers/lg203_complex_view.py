from __future__ import annotations

from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.checkers.complexity import cyclomatic_complexity
from layerguard.violation import Violation


class ComplexView(Rule):
    """## What it does
    Flags a view function or method whose cyclomatic complexity exceeds
    `max-complexity` (default 10). It is reported on its `def` line.

    ## Why is this bad?
    Branches in a view are decisions, and decisions are business logic (HackSoft
    Django Styleguide, "APIs & Serializers": views should be thin). A view with a dozen
    paths cannot be tested without building requests for each, and its rules are
    invisible to every other entry point.

    Complexity is counted exactly as the `mccabe` package (flake8's C901) counts it:
    1, plus 1 per `if`/`elif`, `for`, `while` and nested `def`, plus 1 per `try` and 1
    per `except`; `with`, `finally`, `match`, `and`/`or` and comprehensions add nothing.
    Nested functions count toward the view that contains them. A view is a method of a
    view class, a function decorated as a view, or any function in a view module.

    ## Example
    ```python
    def order_update(request, pk):
        order = get_object_or_404(Order, pk=pk)
        if request.method == "POST":
            if order.paid:
                ...
            elif order.cancelled:
                ...
            for line in request.POST.getlist("lines"):
                if ...:
                    ...
        ...
    ```

    ## Use instead
    Move the decisions into a service (`order_update(order=..., lines=...)`) that
    raises exceptions the view translates into responses.
    """

    code = "LG203"
    name = "complex-view"
    OPTIONS = {"max-complexity": (int, 10)}

    INVALID = [
        Example("""
            from rest_framework.views import APIView

            class OrderUpdate(APIView):
                def post(self, request, pk):  # expect
                    for key in request.data:
                        if key == "a":
                            pass
                        elif key == "b":
                            pass
                        elif key == "c":
                            pass
                    try:
                        pass
                    except ValueError:
                        pass
                    except KeyError:
                        pass
                    if request.user:
                        pass
                    while False:
                        pass
                    def helper():
                        if True:
                            pass
                    return helper
            """, path="shop/api/orders.py", files={"shop/api/__init__.py": ""}),
        Example("""
            async def search(request):  # expect
                if request.GET.get("q"):
                    pass
                if request.GET.get("page"):
                    pass
                if request.GET.get("sort"):
                    pass
            """, files={"pyproject.toml": "[tool.layerguard.lint.LG203]\nmax-complexity = 3\n"}),
    ]
    VALID = [
        Example("""
            def order_list(request):
                if request.GET.get("a") and request.GET.get("b") or request.GET.get("c"):
                    pass
                values = [x for x in range(10) if x if x > 1 if x > 2 if x > 3 if x > 4 if x > 5]
                match request.method:
                    case "GET":
                        pass
                    case "POST":
                        pass
                with open(__file__):
                    pass
                return values
            """),
        Example("""
            def normalise(rows):
                for row in rows:
                    if row == 1: pass
                    elif row == 2: pass
                    elif row == 3: pass
                    elif row == 4: pass
                    elif row == 5: pass
                    elif row == 6: pass
                    elif row == 7: pass
                    elif row == 8: pass
                    elif row == 9: pass
                    elif row == 10: pass
            """, path="shop/services.py"),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        if not context.project.has_delivery_code(context.path):
            return
        limit = context.settings.option(self.code, "max-complexity", 10)
        hint = context.project.service_module_hint(context.path)
        for function in context.project.view_functions(context.path):
            node = context.function_node(function)
            if node is None:
                continue
            complexity = cyclomatic_complexity(node)
            if complexity > limit:
                yield context.violation(
                    self.code, context.def_line(node),
                    f"view `{function.qualname}` has cyclomatic complexity {complexity} (max {limit}); "
                    f"move its decisions into {hint}",
                )
