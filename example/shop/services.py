from django.db import transaction

from shop.models import Customer, Item, Order


@transaction.atomic
def order_create(*, customer: Customer, skus: list[str]) -> Order:
    order = Order.objects.create(customer=customer)
    Item.objects.bulk_create([Item(order=order, sku=sku) for sku in skus])
    return order


def order_pay(*, order: Order) -> Order:
    order.paid = True
    order.save(update_fields=["paid"])
    return order
