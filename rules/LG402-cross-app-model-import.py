# Test target for LG402-cross-app-model-import.yaml (`semgrep test`).
from django.apps import apps
from oscar.core.loading import get_model


def order_model():
    # ruleid: cross-app-get-model
    return apps.get_model("orders", "Order")


def invoice_model():
    # ruleid: cross-app-get-model
    return apps.get_model("billing.Invoice")


def dynamic(label):
    # ok: cross-app-get-model
    return apps.get_model(label)


def oscar_style():
    # ruleid: cross-app-get-model
    return get_model("catalogue", "Product")
