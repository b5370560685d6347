"""Calls that reach outside the process: mail, HTTP, task dispatch, configured SDKs.

Shared by LG201 (in views) and LG301 (in serializers): one walk over a file's calls,
names resolved by the project model's resolver, so `import requests as http`,
`from django.core.mail import send_mail as notify` and a task imported from another
app are all seen, and a local function called `send_mail` or a list called
`requests` is not.
"""

from __future__ import annotations

import ast
import fnmatch
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from layerguard.checkers.base import FileContext
from layerguard.typemodel.bindings import latest_binding
from layerguard.facts import dotted_name

MAIL = "sends mail"
HTTP = "makes an HTTP request"
TASK = "dispatches a task"
SDK = "calls an external service"

MAIL_FUNCTIONS = {
    "django.core.mail.send_mail", "django.core.mail.send_mass_mail",
    "django.core.mail.mail_admins", "django.core.mail.mail_managers",
}
MAIL_MESSAGES = {
    "django.core.mail.EmailMessage", "django.core.mail.EmailMultiAlternatives",
    "django.core.mail.message.EmailMessage", "django.core.mail.message.EmailMultiAlternatives",
}
HTTP_CALLS = [
    "requests.get", "requests.post", "requests.put", "requests.patch", "requests.delete",
    "requests.head", "requests.options", "requests.request", "requests.Session", "requests.session",
    "requests.api.*", "httpx.get", "httpx.post", "httpx.put", "httpx.patch", "httpx.delete", "httpx.head",
    "httpx.options", "httpx.request", "httpx.stream", "httpx.Client", "httpx.AsyncClient",
    "urllib.request.urlopen", "urllib.request.build_opener", "http.client.HTTPConnection",
    "http.client.HTTPSConnection", "aiohttp.request", "aiohttp.ClientSession", "urllib3.PoolManager",
    "urllib3.request",
]
# Well-known SDKs whose calls reach another service: the default of LG201's and LG301's
# `side-effects` (replace it there; add to it with `extend-side-effects`). fnmatch globs on
# the resolved name (`*` crosses dots). Where a client object does the calls
# (`boto3.client("s3").upload_file(...)`), building the client is what is seen, as with
# `requests.Session()`; calls that stay local (`stripe.Webhook.construct_event`,
# `messaging.Message(...)`) are not listed.
DEFAULT_SDK_CALLS = [
    # Stripe: API operations on its resources (stripe.Charge.create, stripe.checkout.Session.retrieve)
    "stripe.*.create", "stripe.*.retrieve", "stripe.*.modify", "stripe.*.delete", "stripe.*.list",
    "stripe.*.search", "stripe.*.cancel", "stripe.*.capture", "stripe.*.confirm", "stripe.*.create_*",
    "stripe.*.retrieve_*", "stripe.*.list_*", "stripe.*.modify_*", "stripe.*.delete_*", "stripe.StripeClient",
    # AWS
    "boto3.client", "boto3.resource", "boto3.Session", "boto3.session.Session",
    # Twilio, SendGrid, Slack
    "twilio.rest.Client", "sendgrid.SendGridAPIClient", "sendgrid.sendgrid.SendGridAPIClient", "slack_sdk.*Client",
    # Firebase Cloud Messaging
    "firebase_admin.messaging.send*", "firebase_admin.messaging.subscribe_to_topic",
    "firebase_admin.messaging.unsubscribe_from_topic",
    # OpenAI, Google Cloud clients
    "openai.OpenAI", "openai.AsyncOpenAI", "openai.AzureOpenAI", "openai.*.create", "google.cloud.*Client",
]
TASK_DISPATCH = {"delay", "apply_async"}
CELERY_CANVAS = {"celery.group", "celery.chain", "celery.chord", "celery.signature",
                 "celery.canvas.group", "celery.canvas.chain", "celery.canvas.chord", "celery.canvas.signature"}
CELERY_APP_NAMES = {"app", "celery_app", "celery", "current_app"}
RQ_ENQUEUE = {"django_rq.enqueue", "django_rq.queues.enqueue"}
RQ_QUEUES = {"django_rq.get_queue", "django_rq.queues.get_queue", "rq.Queue", "rq.queue.Queue"}


@dataclass(frozen=True)
class SideEffect:
    call: ast.Call
    kind: str  # MAIL, HTTP, TASK, SDK
    display: str  # "send_mail()", "requests.post()", "send_receipt.delay()"


def side_effects(context: FileContext, sdk_patterns: list[str]) -> list[SideEffect]:
    """Every side-effecting call in the file (computed once per file and pattern list)."""
    key = f"side_effects:{','.join(sdk_patterns)}"
    if key not in context.memo:
        context.memo[key] = [effect for call in context.calls
                             if (effect := _classify(context, call, sdk_patterns)) is not None]
    return context.memo[key]


def _classify(context: FileContext, call: ast.Call, sdk_patterns: list[str]) -> SideEffect | None:
    project, module = context.project, context.module
    func = call.func
    dotted = dotted_name(func)
    qualified = project.resolve_bound(module, dotted) if dotted else None
    display = f"{dotted}()" if dotted else None
    if qualified:
        if qualified in MAIL_FUNCTIONS:
            return SideEffect(call, MAIL, display)
        if any(fnmatchcase(qualified, pattern) for pattern in HTTP_CALLS):
            return SideEffect(call, HTTP, display)
        if _matcher(tuple(sdk_patterns))(qualified):
            return SideEffect(call, SDK, display)
        if qualified.endswith(".send_task") and _is_celery_app(qualified.rsplit(".", 1)[0]):
            return SideEffect(call, TASK, display)
        if qualified in RQ_ENQUEUE:
            return SideEffect(call, TASK, display)
    if isinstance(func, ast.Attribute):
        if func.attr in ("send", "send_messages") and _is_mail_message(context, call, func.value):
            return SideEffect(call, MAIL, f"{_short(func.value)}.{func.attr}()")
        if func.attr in TASK_DISPATCH and _is_task(context, func.value):
            return SideEffect(call, TASK, f"{_short(func.value)}.{func.attr}()")
        if func.attr in ("enqueue", "enqueue_call") and _constructed_class(context, func.value, call) in RQ_QUEUES:
            return SideEffect(call, TASK, f"{_short(func.value)}.{func.attr}()")
    if isinstance(func, ast.Call) and _is_canvas(context, func):  # group(...)()
        return SideEffect(call, TASK, f"{_short(func)}()")
    return None


@lru_cache(maxsize=16)
def _matcher(patterns: tuple[str, ...]):
    """One compiled regex for a list of fnmatch globs (tens of patterns, every call)."""
    if not patterns:
        return lambda name: False
    return re.compile("|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in patterns)).match


def _short(node: ast.AST) -> str:
    dotted = dotted_name(node)
    if dotted:
        return dotted
    if isinstance(node, ast.Call):
        return f"{_short(node.func)}(...)"
    return "this"


def _constructed_class(context: FileContext, node: ast.AST, call: ast.Call) -> str | None:
    """The class a value was built from: `EmailMessage(...)` directly or through a local name."""
    if isinstance(node, ast.Name):
        origin = latest_binding(context, call, node.id)
        node = origin.node if origin is not None and origin.kind == "assign" else None
    if isinstance(node, ast.Call):
        dotted = dotted_name(node.func)
        return context.project.resolve_bound(context.module, dotted) if dotted else None
    return None


def _is_mail_message(context: FileContext, call: ast.Call, receiver: ast.AST) -> bool:
    return _constructed_class(context, receiver, call) in MAIL_MESSAGES


def _is_task(context: FileContext, receiver: ast.AST) -> bool:
    project = context.project
    if isinstance(receiver, ast.Call):  # group(...).delay(), task.s(...).apply_async()
        if _is_canvas(context, receiver):
            return True
        if isinstance(receiver.func, ast.Attribute) and receiver.func.attr in ("s", "si", "signature"):
            return _is_task(context, receiver.func.value)
        return False
    dotted = dotted_name(receiver)
    qualified = project.resolve_bound(context.module, dotted) if dotted else None
    if not qualified:
        return False
    if project.function_fact(qualified) is not None:
        return project.is_task_function(qualified)
    # A task of a package layerguard does not see: imported from a `tasks` module.
    return "tasks" in qualified.split(".")[:-1]


def _is_canvas(context: FileContext, call: ast.Call) -> bool:
    dotted = dotted_name(call.func)
    return bool(dotted) and context.project.resolve_bound(context.module, dotted) in CELERY_CANVAS


def _is_celery_app(qualified_receiver: str) -> bool:
    return qualified_receiver.startswith("celery") or qualified_receiver.rsplit(".", 1)[-1] in CELERY_APP_NAMES


def sdk_patterns(context: FileContext) -> list[str]:
    """The SDK calls both layers look for: one list for LG201 and LG301.

    `side-effects` (either rule's; both, when both set it) replaces `DEFAULT_SDK_CALLS`,
    and `extend-side-effects` of either rule adds to whichever list is in force."""
    options = context.settings.rule_options
    replaced = [options[code]["side-effects"] for code in ("LG201", "LG301") if "side-effects" in options.get(code, {})]
    base = {pattern for patterns in replaced for pattern in patterns} if replaced else set(DEFAULT_SDK_CALLS)
    extended = {pattern for code in ("LG201", "LG301") for pattern in options.get(code, {}).get("extend-side-effects", [])}
    return sorted(base | extended)


def side_effects_in(context: FileContext, layer: str, code: str):
    """Violations of `code` for side effects inside `layer` ("view" or "serializer")."""
    if not context.project.has_delivery_code(context.path):
        return
    hint = context.project.service_module_hint(context.path)
    for effect in side_effects(context, sdk_patterns(context)):
        if context.project.delivery_layer(context.path, effect.call.lineno) == layer:
            yield context.violation(code, effect.call, f"{effect.display} {effect.kind} in a {layer}; move it to {hint}")
