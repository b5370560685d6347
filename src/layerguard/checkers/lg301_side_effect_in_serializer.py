from __future__ import annotations

from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.checkers.side_effects import DEFAULT_SDK_CALLS, side_effects_in
from layerguard.violation import Violation


class SideEffectInSerializer(Rule):
    """## What it does
    Flags a DRF serializer that calls an external side effect in any of its methods,
    `validate*` included: mail, HTTP clients, task dispatch, and calls of well-known SDKs
    (Stripe, boto3, Twilio, SendGrid, Slack, Firebase messaging, OpenAI, Google Cloud:
    `side-effects`, extended by `extend-side-effects`; LG201's and LG301's settings make
    one list for both rules).

    ## Why is this bad?
    A serializer translates data (HackSoft Django Styleguide, "Serializers"). One that
    sends mail or calls an API from `validate()` does it on every validation, even when
    nothing is saved, and couples the API's input format to the business process.

    Detection is LG201's: names resolved through imports and aliases, look-alikes left
    alone.

    ## Example
    ```python
    class SignupSerializer(serializers.Serializer):
        email = serializers.EmailField()

        def validate_email(self, value):
            if requests.get(f"https://verify.example.com/{value}").status_code != 200:
                raise serializers.ValidationError("unknown address")
            return value
    ```

    ## Use instead
    ```python
    # accounts/services.py
    def email_verify(*, email: str) -> None:
        if requests.get(f"https://verify.example.com/{email}").status_code != 200:
            raise ValidationError("unknown address")
    ```
    and call the service from the view, after the serializer validated the format.
    """

    code = "LG301"
    name = "side-effect-in-serializer"
    OPTIONS = {"side-effects": (list, DEFAULT_SDK_CALLS), "extend-side-effects": (list, [])}

    INVALID = [
        Example("""
            import requests
            from django.core.mail import mail_admins
            from rest_framework import serializers

            class SignupSerializer(serializers.Serializer):
                email = serializers.EmailField()

                def validate_email(self, value):
                    requests.get(f"https://verify.example.com/{value}")  # expect
                    return value

                def create(self, validated_data):
                    mail_admins("signup", validated_data["email"])  # expect
                    return validated_data
            """, path="shop/serializers.py"),
        Example("""
            from shop.serializers import OrderSerializer
            from shop.tasks import notify

            class OrderWithNotesSerializer(OrderSerializer):
                def validate(self, attrs):
                    notify.delay(attrs)  # expect
                    return attrs
            """, path="shop/api/serializers.py", files={
                "shop/api/__init__.py": "",
                "shop/tasks.py": "from celery import shared_task\n\n@shared_task\ndef notify(attrs):\n    pass\n",
            }),
        Example("""
            import stripe
            from rest_framework import serializers

            class CardSerializer(serializers.Serializer):
                token = serializers.CharField()

                def validate_token(self, value):
                    stripe.Token.retrieve(value)  # expect
                    return value
            """, path="shop/serializers.py"),
    ]
    VALID = [
        Example("""
            import requests
            from rest_framework import serializers

            class OrderSerializer(serializers.Serializer):
                total = serializers.IntegerField()

            def fetch_rates():
                return requests.get("https://rates.example.com")
            """, path="shop/serializers.py"),
        Example("""
            from django.core.mail import send_mail

            class Notifier:
                def validate(self, attrs):
                    send_mail("x", "y", None, ["a@example.com"])
            """, path="shop/notifications.py"),
        Example("""
            import stripe
            from rest_framework import serializers

            class CardSerializer(serializers.Serializer):
                token = serializers.CharField()

                def validate_token(self, value):
                    stripe.Token.retrieve(value)
                    return value
            """, path="shop/serializers.py", files={
                # `side-effects = []` replaces the SDK list with nothing: a team that accepts them.
                "pyproject.toml": "[tool.layerguard.lint.LG301]\nside-effects = []\n"}),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        return side_effects_in(context, "serializer", self.code)
