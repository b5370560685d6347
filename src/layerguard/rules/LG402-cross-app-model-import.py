# Test target for LG402-cross-app-model-import.yaml (`semgrep test`).
from django.apps import apps


def order_model():
    # ruleid: cross-app-get-model
    return apps.get_model("orders", "Order")


def invoice_model():
    # ruleid: cross-app-get-model
    return apps.get_model("billing.Invoice")


def dynamic(label):
    # ok: cross-app-get-model
    return apps.get_model(label)
