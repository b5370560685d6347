from celery import shared_task

from shop.models import Order


@shared_task
def purge_empty_orders():
    Order.objects.filter(total=0, paid=False).delete()
