from __future__ import annotations

import ast
from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.checkers.lg204_complex_query_in_view import (
    DEFAULT_MAX_CHAIN, DEFAULT_MAX_RELATED_PATHS, complex_queries)
from layerguard.facts import dotted_name
from layerguard.typemodel.queries import PREFETCH_SERVED, chains_in, evaluated_in
from layerguard.typemodel.signatures import framework_types
from layerguard.violation import Violation

# Serializer and field methods named get_* that are not a SerializerMethodField's.
DRF_GETTERS = {
    "get_fields", "get_field_names", "get_default_field_names", "get_extra_kwargs", "get_validators",
    "get_initial", "get_value", "get_attribute", "get_default", "get_queryset", "get_serializer_context",
    "get_unique_together_validators", "get_unique_for_date_validators", "get_uniqueness_extra_kwargs",
    "get_choices", "get_url", "get_object", "get_serializer", "get_serializer_class", "get_context",
}


class QueryInSerializer(Rule):
    """## What it does
    Flags a DRF serializer whose per-object method runs a query: a `get_<field>` of a
    `SerializerMethodField` (declared in the class, or any `get_<name>(self, obj)` that
    is not one of DRF's own methods) or `to_representation`; the object is an instance of
    the serializer's `Meta.model`, declared in the class or a project base serializer. A
    query is what LG205 calls
    one (`.get()`, `.count()`, `.exists()`, iterating a queryset, `get_object_or_404`), or
    a queryset built from a manager and handed on (`ItemSerializer(Item.objects.filter(
    order=obj), many=True)`). Any serializer method that builds a complex query (as
    LG204 defines it, with LG204's `max-chain` and `max-related-paths`) is flagged too.

    ## Why is this bad?
    A per-object method runs once for every row of a list endpoint: one query in it is
    an N+1, the one DRF users meet most. The read belongs in a selector that annotates
    or prefetches what the serializer shows (HackSoft Django Styleguide, "Selectors";
    "Serializers" should only translate data).

    Reads of the object's own relations that a prefetch can serve (`obj.items.all()`,
    `.count()`, `.exists()`) stay silent: the view's queryset may prefetch them, and
    layerguard cannot see which queryset a serializer is given. `validate_<field>`
    uniqueness lookups (`Order.objects.filter(...).exists()`) and other plain lookups in
    `validate*`, `create` or `update` stay silent; dicts, caches and lists never count.

    ## Example
    ```python
    class OrderSerializer(serializers.ModelSerializer):
        item_count = serializers.SerializerMethodField()

        def get_item_count(self, obj):
            return OrderItem.objects.filter(order=obj).count()
    ```

    ## Use instead
    ```python
    # shop/selectors.py
    def order_list() -> QuerySet[Order]:
        return Order.objects.annotate(item_count=Count("items"))

    # shop/serializers.py
    class OrderSerializer(serializers.ModelSerializer):
        item_count = serializers.IntegerField(read_only=True)
    ```
    """

    code = "LG304"
    name = "query-in-serializer"

    INVALID = [
        Example("""
            from django.db.models import Count
            from rest_framework import serializers

            from shop.models import Item, Order

            class OrderSerializer(serializers.ModelSerializer):
                item_count = serializers.SerializerMethodField()
                first_sku = serializers.SerializerMethodField(method_name="first_item_sku")
                paid_items = serializers.SerializerMethodField()

                class Meta:
                    model = Order
                    fields = ["item_count", "first_sku", "paid_items"]

                def get_item_count(self, obj):
                    return Item.objects.filter(order=obj).count()  # expect

                def first_item_sku(self, obj):
                    return obj.items.filter(sku__startswith="A").first().sku  # expect

                def get_paid_items(self, obj):
                    return ItemSerializer(Item.objects.filter(order__paid=True, order=obj), many=True).data  # expect

                def to_representation(self, instance):
                    data = super().to_representation(instance)
                    data["tags"] = [tag.name for tag in instance.tags.order_by("name")]  # expect
                    return data

                def validate(self, attrs):
                    attrs["n"] = Order.objects.annotate(n=Count("items")).count()  # expect
                    return attrs

            class ItemSerializer(serializers.Serializer):
                sku = serializers.CharField()
            """, path="shop/serializers.py"),
        # `Meta.model` inherited from a project base serializer types `obj`.
        Example("""
            from rest_framework import serializers

            from shop.base_serializers import BaseOrderSerializer

            class OrderSummarySerializer(BaseOrderSerializer):
                first_sku = serializers.SerializerMethodField()

                def get_first_sku(self, obj):
                    return obj.items.filter(sku__startswith="A").first().sku  # expect
            """, path="shop/serializers.py", files={"shop/base_serializers.py": (
                "from rest_framework import serializers\n\nfrom shop.models import Order\n\n\n"
                "class BaseOrderSerializer(serializers.ModelSerializer):\n    class Meta:\n"
                "        model = Order\n        fields = [\"id\"]\n")}),
    ]
    VALID = [
        Example("""
            from django.core.cache import cache
            from rest_framework import serializers

            from shop.models import Order, Tag

            def schema_field(**kwargs):
                return lambda function: function

            class OrderSerializer(serializers.ModelSerializer):
                items = serializers.SerializerMethodField()
                tag_count = serializers.SerializerMethodField()
                label = serializers.SerializerMethodField()

                class Meta:
                    model = Order
                    fields = ["total", "items", "tag_count", "label"]

                @schema_field(queryset=Tag.objects.filter(name__startswith="a"))
                def get_items(self, obj):
                    return [item.sku for item in obj.items.all()]

                def get_tag_count(self, obj):
                    return obj.tags.count()

                def get_label(self, obj):
                    labels = {"a": 1}
                    return cache.get(f"order:{obj.pk}") or labels.get("a") or [1, 2].count(1)

                def validate_total(self, value):
                    if Order.objects.filter(total=value).exists():
                        raise serializers.ValidationError("taken")
                    return value

                def get_fields(self):
                    fields = super().get_fields()
                    fields["total"].queryset = Order.objects.filter(paid=True)
                    return fields
            """, path="shop/serializers.py"),
        Example("""
            from shop.models import Item

            class OrderPresenter:
                def get_item_count(self, obj):
                    return Item.objects.filter(order=obj).count()
            """, path="shop/presenters.py"),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        if not context.project.has_delivery_code(context.path):
            return
        max_chain = context.settings.option("LG204", "max-chain", DEFAULT_MAX_CHAIN)
        max_related = context.settings.option("LG204", "max-related-paths", DEFAULT_MAX_RELATED_PATHS)
        hint = context.project.selector_module_hint(context.path)
        project = context.project
        for cls in context.facts.classes:
            if not project.is_serializer_class(project.class_qualname(context.path, cls)):
                continue
            class_node = next((node for node in context.nodes_at(cls.line, cls.column - 1)
                               if isinstance(node, ast.ClassDef)), None)
            if class_node is None:
                continue
            method_fields = _method_fields(context, class_node)
            model = _meta_model(context, class_node) or framework_types(project).model_of(
                project.class_qualname(context.path, cls))  # `Meta.model` of a project base
            reported: set[tuple[int, int]] = set()
            for method in class_node.body:
                if not isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                if _is_per_object(method, method_fields):
                    for violation in _per_object_queries(context, method, model, self.code, hint):
                        reported.add((violation.line, violation.column))
                        yield violation
                for violation in complex_queries(context, method, self.code, "a serializer", hint,
                                                 max_chain, max_related):
                    if (violation.line, violation.column) not in reported:
                        yield violation


def _method_fields(context: FileContext, class_node: ast.ClassDef) -> set[str]:
    """Method names of the SerializerMethodFields declared in the class body."""
    names = set()
    for statement in class_node.body:
        if not (isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call)):
            continue
        dotted = dotted_name(statement.value.func) or ""
        if not dotted.endswith("SerializerMethodField"):
            continue
        method_name = next((keyword.value.value for keyword in statement.value.keywords
                            if keyword.arg == "method_name" and isinstance(keyword.value, ast.Constant)), None)
        if method_name is None and statement.value.args and isinstance(statement.value.args[0], ast.Constant):
            method_name = statement.value.args[0].value
        for target in statement.targets:
            if isinstance(target, ast.Name):
                names.add(method_name or f"get_{target.id}")
    return names


def _is_per_object(method: ast.FunctionDef | ast.AsyncFunctionDef, method_fields: set[str]) -> bool:
    if method.name in method_fields or method.name == "to_representation":
        return True
    positional = [*method.args.posonlyargs, *method.args.args]
    return method.name.startswith("get_") and method.name not in DRF_GETTERS and len(positional) == 2


def _meta_model(context: FileContext, class_node: ast.ClassDef) -> str | None:
    """`Meta.model` of a ModelSerializer declared in the class itself (a project base's
    is found by the framework signatures, `FrameworkTypes.model_of`)."""
    for statement in class_node.body:
        if isinstance(statement, ast.ClassDef) and statement.name == "Meta":
            for assignment in statement.body:
                if isinstance(assignment, ast.Assign) and any(
                        isinstance(target, ast.Name) and target.id == "model" for target in assignment.targets):
                    found = context.types.type_of(assignment.value)
                    return found.model if found is not None and found.kind == "class" else None
    return None


def _per_object_queries(context: FileContext, method, model: str | None, code: str, hint: str) -> Iterable[Violation]:
    positional = [*method.args.posonlyargs, *method.args.args]
    subject = positional[1].arg if len(positional) > 1 else None
    if subject and model and positional[1].annotation is None:
        context.types.assume_parameter(method, subject, model)
    reported: set[int] = set()
    found = [(chain.first.node, chain, "") for chain in chains_in(context, method) if not chain.writes]
    found += [(chain.first.node if chain is not None else where, chain, how)
              for where, chain, how in evaluated_in(context, method.body)]
    for where, chain, how in sorted(found, key=lambda item: (item[0].lineno, item[0].col_offset)):
        if id(where) in reported:
            continue
        if chain is not None:
            first = chain.first
            evaluated = how or chain.evaluates
            if first.kind == "related" and all(name in PREFETCH_SERVED for name in first.methods):
                continue  # the view's queryset may prefetch it
            if first.kind != "manager" and not evaluated and first.kind != "related":
                continue  # a queryset handed in, narrowed but not run here
            if chain.writes:
                continue
        reported.add(id(where))
        display = chain.first.display() if chain is not None else f"{how}()"
        yield context.violation(
            code, where,
            f"`{display}` runs a query for every object `{method.name}` serializes (N+1); "
            f"annotate or prefetch it in a selector in {hint}",
        )
