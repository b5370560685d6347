from shop.models import Order


def order_list_unpaid(*, customer_id: int):
    return Order.objects.filter(customer_id=customer_id, paid=False)


def order_mark_seen(*, order_id: int) -> None:
    # A selector that writes: reads only, please.
    Order.objects.filter(pk=order_id).update(paid=False)
