from django.utils import timezone

from billing.models import Invoice


def invoice_mark_paid(*, invoice: Invoice) -> Invoice:
    invoice.paid_at = timezone.now()
    invoice.save(update_fields=["paid_at"])
    return invoice
