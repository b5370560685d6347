from __future__ import annotations

import ast
from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.facts import dotted_name
from layerguard.violation import Violation

SAVE_METHODS = {"create", "update", "save"}


class LogicInSerializerSave(Rule):
    """## What it does
    Flags a DRF serializer that overrides `create`, `update` or `save` with its own
    logic instead of delegating to a service. Reported on the method's `def` line.

    ## Why is this bad?
    The write path becomes invisible to other callers (a management command, a task,
    another API) and untestable without HTTP (HackSoft Django Styleguide,
    "Serializers": serializers translate data, services do the work).

    Where the line is: after an optional docstring, the body may be only
    - `return service(...)` or `service(...)`, where `service` resolves to a function in
      a service module (`service-modules`);
    - `result = service(...)` followed by `return result`;
    - `return super().create(...)` (or `super().update/save`), or that call alone;
    - `raise ...` (a read-only serializer refusing writes).
    Anything else (ORM writes, loops, conditionals, several calls, or a call to a
    function that is not in a service module) is logic.

    ## Example
    ```python
    class OrderSerializer(serializers.ModelSerializer):
        def create(self, validated_data):
            items = validated_data.pop("items")
            order = Order.objects.create(**validated_data)
            for item in items:
                order.items.create(**item)
            return order
    ```

    ## Use instead
    ```python
    class OrderSerializer(serializers.ModelSerializer):
        def create(self, validated_data):
            return order_create(**validated_data)  # shop/services.py
    ```
    """

    code = "LG302"
    name = "logic-in-serializer-save"

    INVALID = [
        Example("""
            from rest_framework import serializers
            from shop.models import Order

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                def create(self, validated_data):  # expect
                    order = Order.objects.create(**validated_data)
                    return order

                def update(self, instance, validated_data):  # expect
                    if validated_data.get("total"):
                        instance.total = validated_data["total"]
                    return super().update(instance, validated_data)
            """, path="shop/serializers.py"),
        Example("""
            from rest_framework import serializers
            from shop.utils import order_build

            class QuickOrderSerializer(serializers.Serializer):
                def save(self, **kwargs):  # expect
                    return order_build(**self.validated_data)
            """, files={"shop/utils.py": "def order_build(**data):\n    return data\n"}),
    ]
    VALID = [
        Example('''
            from rest_framework import serializers
            from shop.models import Order
            from shop.services import order_create, order_update

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                def create(self, validated_data):
                    """Delegates to the service."""
                    return order_create(**validated_data, user=self.context["request"].user)

                def update(self, instance, validated_data):
                    order = order_update(order=instance, **validated_data)
                    return order

                def save(self, **kwargs):
                    return super().save(**kwargs)
            ''', path="shop/serializers.py", files={
                "shop/services.py": "def order_create(**data):\n    pass\n\ndef order_update(**data):\n    pass\n",
            }),
        Example("""
            from rest_framework import serializers
            from shop import services

            class ReadOnlyOrderSerializer(serializers.Serializer):
                def create(self, validated_data):
                    raise NotImplementedError("read only")

                def update(self, instance, validated_data):
                    services.order_update(order=instance, **validated_data)
            """, path="shop/serializers.py", files={"shop/services.py": "def order_update(**data):\n    pass\n"}),
        Example("""
            class Exporter:
                def save(self, rows):
                    for row in rows:
                        print(row)
            """, path="shop/serializers.py"),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        project = context.project
        if not project.has_delivery_code(context.path):
            return
        hint = project.service_module_hint(context.path)
        for function in context.facts.functions:
            if function.name not in SAVE_METHODS or function.class_qualname is None:
                continue
            owner = f"{context.module.name}.{function.class_qualname}"
            if not project.is_serializer_class(owner):
                continue
            node = context.function_node(function)
            if node is None or self._delegates(context, node):
                continue
            yield context.violation(
                self.code, context.def_line(node),
                f"`{function.qualname}()` holds logic instead of calling a service; move it to {hint}",
            )

    def _delegates(self, context: FileContext, node: ast.FunctionDef) -> bool:
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            body = body[1:]  # the docstring
        if len(body) == 1:
            only = body[0]
            if isinstance(only, ast.Raise) or isinstance(only, ast.Pass):
                return True
            if isinstance(only, (ast.Return, ast.Expr)) and only.value is not None:
                return self._is_delegation(context, only.value)
            return False
        if len(body) == 2:
            first, second = body
            return (
                isinstance(first, ast.Assign) and len(first.targets) == 1 and isinstance(first.targets[0], ast.Name)
                and isinstance(second, ast.Return) and isinstance(second.value, ast.Name)
                and second.value.id == first.targets[0].id and self._is_delegation(context, first.value)
            )
        return False

    def _is_delegation(self, context: FileContext, value: ast.AST) -> bool:
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call) \
                and dotted_name(func.value.func) == "super" and func.attr in SAVE_METHODS:
            return True
        dotted = dotted_name(func)
        qualified = context.project.resolve_bound(context.module, dotted) if dotted else None
        if not qualified:
            return False
        found = context.project.function_fact(qualified)
        if found is not None:
            return context.project.is_service_module(found[0].path)
        # A function layerguard does not see: a service if its module is named like one.
        return "services" in qualified.split(".")[:-1]
