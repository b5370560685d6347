# Test target for LG202-transaction-in-view.yaml (`semgrep test`).
# Candidates only: layerguard resolves `atomic` and checks the match is in a view or serializer.
from django.db import transaction
from django.db import transaction as tx
from django.db.transaction import atomic
from django.utils.decorators import method_decorator

from shop.models import Order


# ruleid: transaction-in-delivery-layer
@transaction.atomic
def pay(request):
    # ruleid: transaction-in-delivery-layer
    with tx.atomic(using="default"):
        # ruleid: select-for-update-in-delivery-layer
        Order.objects.select_for_update().get(pk=1)
    # ruleid: transaction-in-delivery-layer
    with atomic():
        pass
    # ok: transaction-in-delivery-layer
    transaction.on_commit(lambda: None)


# ruleid: transaction-in-delivery-layer
@method_decorator(transaction.atomic, name="dispatch")
class OrderUpdate:
    # ok: transaction-in-delivery-layer
    @transaction.non_atomic_requests
    def get(self, request):
        # ok: select-for-update-in-delivery-layer
        return Order.objects.filter(pk=1)
