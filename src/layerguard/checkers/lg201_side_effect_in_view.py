from __future__ import annotations

from typing import Iterable

from layerguard.checkers.base import Example, FileContext, Rule
from layerguard.checkers.side_effects import DEFAULT_SDK_CALLS, side_effects_in
from layerguard.violation import Violation


class SideEffectInView(Rule):
    """## What it does
    Flags a view that calls an external side effect itself: sending mail
    (`send_mail`, `mail_admins`, `EmailMessage(...).send()`), an HTTP client
    (`requests`, `httpx`, `urllib.request.urlopen`, `http.client`, `aiohttp`), task
    dispatch (`.delay()`, `.apply_async()`, `send_task`, `group(...)()`; RQ's
    `django_rq.enqueue()` and `.enqueue()` on a `get_queue(...)` or `rq.Queue(...)`),
    or a call of a well-known SDK: Stripe API operations (`stripe.Charge.create`...),
    boto3 clients and resources, Twilio's and SendGrid's clients, `slack_sdk` clients,
    `firebase_admin.messaging.send*`, OpenAI and Google Cloud clients (`side-effects`,
    the list in `checkers/side_effects.py`).

    ## Why is this bad?
    A view should translate HTTP into a service call and back (HackSoft Django
    Styleguide, "APIs & Serializers"). Side effects in a view cannot be reused by a
    management command or a task, cannot be tested without a request, and usually
    belong next to the write they follow, inside the service's transaction (or in
    `transaction.on_commit` there).

    Names are resolved through imports and aliases (`import requests as http`,
    `from django.core.mail import send_mail as notify`); a function of your own called
    `send_mail`, a variable called `requests` or a `.delay` attribute on a dataclass is
    not a side effect. A `.delay()` counts when its receiver is a function decorated as
    a task (`shared_task`, `app.task`...) or imported from a `tasks` module.
    Services, selectors, tasks, signal receivers and commands may do all of this.

    The SDK list is `fnmatch` globs on the resolved name (`*` crosses dots:
    `"*Job.enqueue"` matches a project's own job classes): `extend-side-effects` adds to
    it, `side-effects` replaces it (`side-effects = []` turns SDK calls off). LG201's and
    LG301's settings make one list for both rules. Where an SDK works through a client
    object, building the client is what is reported (`boto3.client("s3")`,
    `SendGridAPIClient(key)`), as with `requests.Session()`; local helpers such as
    `stripe.Webhook.construct_event` are not side effects.

    ## Example
    ```python
    # shop/views.py
    @api_view(["POST"])
    def order_create(request):
        order = order_create_service(**request.data)
        send_mail("Thanks", "...", None, [request.user.email])
        return Response({"id": order.id})
    ```

    ## Use instead
    ```python
    # shop/services.py
    def order_create(*, user, **data) -> Order:
        order = Order.objects.create(**data)
        transaction.on_commit(lambda: send_order_confirmation.delay(order.id))
        return order
    ```
    """

    code = "LG201"
    name = "side-effect-in-view"
    OPTIONS = {"side-effects": (list, DEFAULT_SDK_CALLS), "extend-side-effects": (list, [])}

    INVALID = [
        Example("""
            import requests as http
            from django.core.mail import send_mail as notify
            from rest_framework.decorators import api_view

            @api_view(["POST"])
            def checkout(request):
                http.post("https://payments.example.com/charge", json={})  # expect
                notify("Thanks", "body", None, [request.user.email])  # expect
            """),
        Example("""
            from django.core.mail import EmailMessage
            from rest_framework.views import APIView

            class Invite(APIView):
                def post(self, request):
                    EmailMessage("Hi", "body", to=["a@example.com"]).send()  # expect
                    message = EmailMessage("Hi", "body", to=["b@example.com"])
                    message.send()  # expect
            """, path="shop/web/invite.py", files={"shop/web/__init__.py": ""}),
        Example("""
            from shop.tasks import send_receipt
            from celery import group

            def order_done(request, pk):
                send_receipt.delay(pk)  # expect
                send_receipt.apply_async(args=[pk], countdown=10)  # expect
                group(send_receipt.s(pk) for pk in [1, 2])()  # expect
            """, files={"shop/tasks.py": "from celery import shared_task\n\n@shared_task\ndef send_receipt(pk):\n    pass\n"}),
        Example("""
            import boto3
            import stripe
            from firebase_admin import messaging
            from sendgrid import SendGridAPIClient
            from slack_sdk import WebClient
            from twilio.rest import Client

            async def refund(request, pk):
                stripe.Refund.create(charge=pk)  # expect
                stripe.Webhook.construct_event(request.body, "sig", "secret")
                boto3.client("s3")  # expect
                Client("sid", "token").messages.create(to="+1", body="refunded")  # expect
                SendGridAPIClient("key").send(None)  # expect
                WebClient(token="x").chat_postMessage(channel="#refunds", text="refunded")  # expect
                messaging.send(messaging.Message(topic="refunds"))  # expect
                def notify():
                    import httpx
                    httpx.get("https://example.com")  # expect
                notify()
            """),
        Example("""
            import boto3
            import stripe
            from shop.jobs import ExportJob

            def export(request):
                ExportJob.enqueue()  # expect
                boto3.client("s3")  # expect
                stripe.Refund.create(charge=1)
            """, files={
                "shop/jobs.py": "class ExportJob:\n    @classmethod\n    def enqueue(cls):\n        pass\n",
                # `side-effects` replaces the SDK list, `extend-side-effects` adds to it.
                "pyproject.toml": (
                    '[tool.layerguard.lint.LG201]\nside-effects = ["boto3.*"]\n'
                    '[tool.layerguard.lint.LG301]\nextend-side-effects = ["*Job.enqueue"]\n'),
            }),
        Example("""
            import django_rq
            from django_rq import get_queue

            def export(request):
                django_rq.enqueue(print, "export")  # expect
                queue = get_queue("low")
                queue.enqueue(print, "export")  # expect
                pending = []
                pending.enqueue = print
                pending.enqueue("not a queue")
            """),
        Example("""
            from django.core.mail import send_mail
            from django.shortcuts import render

            def notification_settings(request):
                send_mail("Settings changed", "body", None, [request.user.email])  # expect
                return render(request, "account/settings.html")
            """, path="shop/views/settings.py", files={
                # The views of a settings page: a view module, not Django settings, whatever its name.
                "shop/views/__init__.py": "",
                "manage.py": "import os\n\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n",
                "config/__init__.py": "",
                "config/settings.py": "INSTALLED_APPS = ['shop']\nSECRET_KEY = 'x'\n",
            }),
    ]
    VALID = [
        Example("""
            from dataclasses import dataclass

            @dataclass
            class Task:
                delay: int

            def send_mail(subject):
                return subject

            def preview(request):
                requests = [1, 2]
                requests.append(3)
                send_mail("local function, not django.core.mail")
                task = Task(delay=3)
                return task.delay
            """),
        Example("""
            import requests
            from django.core.mail import send_mail

            def order_confirm(*, email: str) -> None:
                requests.post("https://example.com/hook")
                send_mail("Thanks", "body", None, [email])
            """, path="shop/services.py"),
        Example("""
            import requests

            class PhotoView:
                def render_preview(self):
                    return requests.get("https://example.com/photo")
            """, path="shop/previews.py"),
        Example("""
            from django.db import transaction
            from rest_framework.decorators import api_view

            @api_view(["POST"])
            def order_pay(request):
                transaction.on_commit(lambda: None)
            """),
        # Test support is found by what it is: a module defining a TestCase subclass,
        # pytest fixtures or factory_boy factories, or named test.py, even among views.
        Example("""
            from django.core.mail import send_mail
            from django.test import TestCase

            def mailing_view(request):
                send_mail("Hi", "body", None, ["a@example.com"])

            class MailingTestCase(TestCase):
                pass
            """, path="shop/views.py"),
        Example("""
            import pytest
            import requests

            @pytest.fixture
            def webhook_receiver():
                return []

            def fake_webhook_view(request):
                requests.post("https://example.com/hook")
            """, path="shop/api.py"),
        Example("""
            import factory
            import requests

            class OrderFactory(factory.django.DjangoModelFactory):
                class Meta:
                    model = "shop.Order"

            def fake_view(request):
                requests.get("https://example.com")
            """, path="shop/viewsets.py"),
        Example("""
            import requests

            def fake_view(request):
                requests.get("https://example.com")
            """, path="shop/views/test.py", files={"shop/views/__init__.py": ""}),
    ]

    def check_file(self, context: FileContext) -> Iterable[Violation]:
        return side_effects_in(context, "view", self.code)
