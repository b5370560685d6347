# Test target for LG101-orm-write-outside-service.yaml (`semgrep test`).
# These rules only find candidates: e.g. `form.save()` is a candidate here, and
# layerguard's project model then drops it because ContactForm is not a model.
from django.db import connection

from shop.forms import ContactForm
from shop.models import Order


def manager_writes(request):
    # ruleid: orm-write-outside-service
    Order.objects.create(total=1)
    # ruleid: orm-write-outside-service
    Order.objects.filter(paid=False).update(paid=True)
    # ruleid: orm-write-outside-service
    Order.objects.bulk_create([Order(total=1)])
    # ok: orm-write-outside-service
    Order.objects.filter(paid=False).count()
    # ok: orm-write-outside-service
    print(Order.objects.get(pk=1))


def instance_writes(request):
    order = Order.objects.get(pk=1)
    order.total = 2
    # ruleid: orm-write-outside-service
    order.save()
    # ruleid: orm-write-outside-service
    order.items.add(1)
    for line in Order.objects.all():
        # ruleid: orm-write-outside-service
        line.delete()


def typed(order: Order):
    # ruleid: orm-write-outside-service
    order.save(update_fields=["total"])


def candidates_the_project_model_drops(request):
    form = ContactForm(request.POST)
    # ruleid: orm-write-outside-service
    form.save()
    # ruleid: orm-write-outside-service
    request.session.save()
    # ok: orm-write-outside-service
    print(form.cleaned_data)


def raw_sql():
    with connection.cursor() as cursor:
        # ruleid: orm-write-outside-service-raw-sql
        cursor.execute("UPDATE shop_order SET paid = true WHERE id = %s", [1])
        # ok: orm-write-outside-service-raw-sql
        cursor.execute("SELECT id FROM shop_order")
    # ruleid: orm-write-outside-service-raw-sql
    connection.cursor().execute("""
        DELETE FROM shop_order""")
    cur = connection.cursor()
    # ruleid: orm-write-outside-service-raw-sql
    cur.executemany("insert into shop_item (order_id) values (%s)", [(1,), (2,)])
