from __future__ import annotations

from collections.abc import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.checkers.transactions import renamed_atomic_violations, transaction_violation
from layerguard.semgrep import SemgrepMatch, SemgrepRule
from layerguard.violation import Violation


class TransactionInSerializer(Rule):
    """## What it does
    Flags `transaction.atomic` or `select_for_update()` in a DRF serializer. Any method
    counts, and `atomic` as a decorator or in a `with`.

    ## Why is this bad?
    A serializer that opens a transaction is doing a service's job: its `create()` or
    `update()` has grown business logic that needs atomicity (HackSoft Django
    Styleguide, "Serializers" and "Services"). Other callers of that logic cannot get the
    same guarantee without going through the serializer.

    Detection is LG202's (same patterns, `rules/LG202-transaction-in-view.yaml`).

    ## Example
    ```python
    class OrderSerializer(serializers.ModelSerializer):
        @transaction.atomic
        def create(self, validated_data):
            ...
    ```

    ## Use instead
    ```python
    class OrderSerializer(serializers.ModelSerializer):
        def create(self, validated_data):
            return order_create(**validated_data)  # shop/services.py is @transaction.atomic
    ```
    """

    code = "LG303"
    name = "transaction-in-serializer"
    fix_kind = "extract-transaction"
    fix_safety = "unsafe"
    semgrep_file = "LG202-transaction-in-view.yaml"

    INVALID = [
        Example("""
            from django.db import transaction
            from rest_framework import serializers
            from shop.models import Order

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                @transaction.atomic  # expect
                def create(self, validated_data):
                    return super().create(validated_data)

                def update(self, instance, validated_data):
                    with transaction.atomic():  # expect
                        Order.objects.select_for_update().get(pk=instance.pk)  # expect
                        return super().update(instance, validated_data)
            """, path="shop/serializers.py"),
        Example("""
            from django.db import transaction
            from rest_framework import serializers, views

            class PaySerializer(serializers.Serializer):
                def save(self, **kwargs):
                    with transaction.atomic():  # expect
                        return None

            class Pay(views.APIView):
                pass
            """),
        Example("""
            from django.db.transaction import atomic as locked
            from rest_framework import serializers

            class RefundSerializer(serializers.Serializer):
                @locked()  # expect
                def save(self, **kwargs):
                    return None
            """),
    ]
    VALID = [
        Example("""
            from django.db import transaction
            from rest_framework.views import APIView

            class OrderPay(APIView):
                def post(self, request):
                    with transaction.atomic():
                        return None
            """),
    ]

    def check_match(self, match: SemgrepMatch, rule: SemgrepRule, context: FileContext) -> Violation | None:
        return transaction_violation(self.code, "serializer", match, rule, context)

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        return renamed_atomic_violations(self.code, "serializer", context)
