from __future__ import annotations

import ast

from layerguard.checkers.base import Example, FileContext, Rule, interpolate
from layerguard.orm import WRITE_METHODS, short_code
from layerguard.semgrep import SemgrepMatch, SemgrepRule
from layerguard.violation import Violation


# Subclasses of shop/importers.py's Importer, for the examples of values that cross an
# override (the INVALID examples put a write where a test needs one).
IMPORTERS = """
from shop.importers import Importer
from shop.models import Order


class Json(Importer):
    def parse(self, data):
        return Order(total=data["total"])

    def finish(self, order):
        pass  # finish


class Csv(Importer):
    def parse(self, data):
        return Order.objects.get(pk=data)

    def name(self):
        return str(self)


class Notifier:
    def __init__(self, order):
        self.order = order

    def send(self):
        self.order.save()  # expect


def notify(request):
    notifier = Notifier(Order.objects.get(pk=1))
    notifier.send()
"""


class OrmWriteOutsideService(Rule):
    """## What it does
    Flags an ORM write (`save`, `delete`, `create`, `update`, `bulk_create`,
    `bulk_update`, `get_or_create`, `update_or_create`, a related manager's
    `add`/`remove`/`set`/`clear`/`create`, or raw `INSERT`/`UPDATE`/`DELETE`
    through a cursor) anywhere outside a service module: in views, serializers,
    forms, admin, tasks, signal receivers, management commands, utils and selectors.

    ## Why is this bad?
    The styleguide's first rule is that business logic, and every write in it, lives
    in services (HackSoft Django Styleguide, "Services"). A write in a view or a
    serializer can only be reached over HTTP, is skipped by the management command
    or task that needs the same change, and hides the code that must run in one
    transaction. Selectors are for reads; a write there surprises every caller.

    How layerguard decides: semgrep finds every call shaped like a write and raw SQL
    writes through a cursor (`rules/LG101-orm-write-outside-service.yaml`); the project
    model then types the receiver, following a local name to its latest binding in the
    function (assignment, walrus, `for` target, annotated parameter, an enclosing `if
    isinstance(name, Order):`, and for a nested function the enclosing function's names).

    A write on any of these is reported: `Order.objects`, a queryset chain, `Order(...)`,
    `Order.objects.get(...)`, `get_object_or_404(Order, ...)`, a parameter annotated
    `Order`, `request.user`; whatever the model graph reaches from a known instance or
    class (`item.order.customer`, reverse managers by `related_name` or `<model>_set`,
    many-to-many both ways (django-taggit's `TaggableManager`, or a class named
    `...TaggableManager`, is one), `user.groups`, a
    GenericForeignKey, `Order.tags.through.objects`,
    django-mptt / treebeard navigation such as `get_descendants()`); a file field's
    `save(name, content)` and `delete()` (they save the instance unless `save=False`); what
    a factory_boy `DjangoModelFactory` builds; the loop variable over any of those (`for i,
    order in enumerate(orders)` and `zip(...)` too); what all operands of `a or b` agree on
    (`a if c else None` is `a`); and the manager of a model class held in a variable
    (`type[Order]`, `apps.get_model(...)`, `self.model.objects`). Any `get_model` called
    with literal arguments (`"shop", "Order"`, `"shop.Order"` or `app_label=`/`model_name=`)
    names that model, as
    Django's does: django-oscar's loader, a project's own, at module level or in a function.
    A manager's or queryset's `.model` is its model class (`order.items.model(sku="x")` an
    instance of it). Model classes or instances held in a collection are followed too: a
    loop over a tuple, list or set literal of them, or over a module-level constant bound
    once to one; a dict of them by key, its `get()`, `values()` and `items()`; `a, b = x, y`
    element by element; and the app registry's `apps.get_models()` and
    `get_app_config(...).get_models()`. A collection that mixes a model with anything
    layerguard cannot type stays unknown.

    And on the arguments the framework fixes (typemodel/signatures.py): `obj` of an admin's
    `save_model` (an admin registered for a model, whatever third-party base it has),
    `formset.save(commit=False)` in its `save_formset`, an admin action's `queryset`, a
    `post_save` receiver's `instance` (an `m2m_changed` one's too; connected by `@receiver`,
    `connect(handler, ...)` or `connect(receiver=handler, ...)`, the sender a model class or
    the app registry's `apps.get_model(...)`, an AppConfig's `self.get_model(...)`, or a
    local name bound to one in `ready()`), a `user_logged_in`
    receiver's `user`, `Site.objects.get_current()`, `ContentType.objects.get_for_model()`,
    `authenticate()`, django-allauth adapters' `super().save_user(...)`, DRF's
    `perform_destroy(instance)`, `serializer.save()` in `perform_create` or on
    `self.get_serializer(...)` or a ModelSerializer built in the code or annotated, a ModelForm's
    `super().save(commit=False)`, `self.object`, `self.get_object()`, `self.get_queryset()`.

    Values that cross a function boundary are followed across the project
    (typemodel/solver.py): what a project function or a custom manager/queryset method
    returns (annotated, `-> Order`, `-> tuple[Tag, bool]`, or not: `return order, tag`
    and `return [order]` are typed element by element), and a classmethod or
    static method called on its class (`Access.orders(user)`, `Order.first_unpaid()`;
    `cls(...)` in a model's classmethod is an instance); an unannotated parameter
    the call sites that pass something typable agree on (one passing `request.POST.get(...)`
    is no evidence either way); `self.x` set from a model in the class; and a class
    attribute annotation (`customer: Customer` on an HttpRequest subclass). Call sites
    include a base class's `self.m(...)` for each override of `m`, a class's construction
    for its `__init__`, a static method called through its class, calls in `if` tests and
    along a receiver chain, `Thread(target=f, args=[...])` and `executor.submit(f, ...)`; a
    base method that raises `NotImplementedError` returns what its overrides agree on, and
    a function returning instances of several subclasses returns their nearest common
    project base. Where two call sites pass different types the value is unknown, except
    collections of one model (a queryset here, a helper's `Iterator[Order]` there): a list
    of it, whose elements are known.

    Anything it cannot type (`form.save()`, `serializer.save()`, PIL's `image.save()`,
    `cache.delete()`, `dict.update()`, `super().save()`) is left alone: silence is
    preferred to a guess. Tests, migrations, settings and factories are exempt, and a model
    module may write its own app's models.

    ## Example
    ```python
    # shop/views.py
    @api_view(["POST"])
    def pay_order(request, pk):
        order = get_object_or_404(Order, pk=pk)
        order.paid = True
        order.save()
        return Response(status=204)
    ```

    ## Use instead
    ```python
    # shop/services.py
    def order_pay(*, order: Order) -> Order:
        order.paid = True
        order.full_clean()
        order.save()
        return order

    # shop/views.py
    @api_view(["POST"])
    def pay_order(request, pk):
        order_pay(order=get_object_or_404(Order, pk=pk))
        return Response(status=204)
    ```
    """

    code = "LG101"
    name = "orm-write-outside-service"
    fix_kind = "extract-to-service"
    fix_safety = "unsafe"
    semgrep_file = "LG101-orm-write-outside-service.yaml"

    INVALID = [
        Example("""
            from shop.models import Order

            def create_order(request):
                Order.objects.create(total=1)  # expect
            """),
        Example("""
            from .models import Order

            def pay_all(request):
                Order.objects.filter(  # expect
                    paid=False,
                ).exclude(total=0).update(paid=True)
            """),
        Example("""
            from django.shortcuts import get_object_or_404
            from rest_framework.decorators import api_view
            from shop.models import Order

            @api_view(["POST"])
            def pay(request, pk):
                order = get_object_or_404(Order, pk=pk)
                order.paid = True
                order.save()  # expect
            """),
        Example("""
            def rename(request):
                request.user.first_name = "x"
                request.user.save()  # expect
            """),
        Example("""
            from rest_framework import generics

            class OrderDelete(generics.DestroyAPIView):
                def perform_destroy(self, instance):
                    order = self.get_object()
                    order.delete()  # expect
            """, path="shop/routes.py"),
        Example("""
            from shop.models import Order, Tag

            def tag(request, pk):
                order = Order.objects.get(pk=pk)
                order.tags.add(Tag.objects.get(name="vip"))  # expect
                order.items.create(sku="x")  # expect
            """),
        Example("""
            from django.db import connection

            def purge():
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM shop_order WHERE total = 0")  # expect
            """, path="shop/selectors.py"),
        Example("""
            from celery import shared_task
            from shop.models import Order

            @shared_task
            def mark_paid(order: Order):
                order.paid = True
                order.save(update_fields=["paid"])  # expect
            """, path="shop/tasks.py"),
        Example("""
            from django.core.management.base import BaseCommand
            from shop.models import Order

            class Command(BaseCommand):
                def handle(self, *args, **options):
                    for order in Order.objects.filter(total=0):
                        order.delete()  # expect
            """, path="shop/management/commands/purge.py"),
        Example("""
            from rest_framework import serializers
            from shop.models import Order

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                def create(self, validated_data):
                    return Order.objects.create(**validated_data)  # expect
            """, path="shop/serializers.py"),
        Example("""
            from billing.models import Invoice

            class OrderManager:
                def close(self, order):
                    Invoice.objects.create(order_id=order.pk)  # expect
            """, path="shop/managers.py", files={
                "billing/__init__.py": "",
                "billing/apps.py": "from django.apps import AppConfig\n\nclass BillingConfig(AppConfig):\n    name = 'billing'\n",
                "billing/models.py": "from django.db import models\n\nclass Invoice(models.Model):\n    order_id = models.IntegerField()\n",
            }),
        Example("""
            from django.contrib.auth import get_user_model

            User = get_user_model()

            def signup(request):
                User.objects.create_user(username="a", password="b")  # expect
            """),
        Example("""
            from shop import models

            def bump(request):
                order = models.Order(total=1)
                order.save()  # expect
            """, path="shop/utils.py"),
        Example("""
            from django.core.management.base import BaseCommand
            from django_celery_beat.models import PeriodicTask

            class Command(BaseCommand):
                def handle(self, *args, **options):
                    PeriodicTask.objects.all().delete()  # expect
            """, path="shop/management/commands/reset_schedules.py"),
        Example("""
            from shop.models import Order

            def clear_total(request):
                if order := Order.objects.filter(total=0).first():
                    order.total = None
                    order.save()  # expect
            """),
        Example("""
            from django.contrib import admin
            from shop.models import Order, Item

            @admin.register(Order)
            class OrderAdmin(admin.ModelAdmin):
                def save_model(self, request, obj, form, change):
                    super().save_model(request, obj, form, change)
                    Item.objects.filter(order=obj).delete()  # expect
            """, path="shop/admin.py"),
        Example("""
            from django import forms
            from shop.models import Order, Tag

            class TagOrderForm(forms.Form):
                name = forms.CharField()

                def apply(self, order: Order):
                    tag, created = Tag.objects.get_or_create(name=self.cleaned_data["name"])  # expect
                    order.tags.add(tag)  # expect
            """, path="shop/forms.py"),
        Example("""
            from django.db.models.signals import post_save
            from django.dispatch import receiver
            from shop.models import Customer, Order

            @receiver(post_save, sender=Customer)
            def create_first_order(sender, instance, created, **kwargs):
                if created:
                    Order.objects.create(customer=instance)  # expect
            """, path="shop/signals.py"),
        Example("""
            from shop.models import Item, Order, Tag

            def close(request, item: Item):
                item.order.customer.delete()  # expect
                item.order.customer.orders.filter(paid=False).first().items.create(sku="x")  # expect
                Tag.objects.get(pk=1).order_set.clear()  # expect
                request.user.customer.save()  # expect
                request.user.groups.clear()  # expect
            """),
        Example("""
            from shop.lookups import maybe_order, open_order, order_named, tag_for

            def close(request, pk):
                order = order_named(pk)
                order.save()  # expect
                maybe_order(pk).delete()  # expect
                tag, created = tag_for("vip")
                tag.delete()  # expect
                open_order(0).save()  # expect
            """, files={"shop/lookups.py": (
                    "from typing import Optional\n"
                    "from shop.models import Order, Tag\n\n"
                    "def order_named(pk) -> Order:\n    return Order.objects.get(pk=pk)\n\n"
                    "def maybe_order(pk) -> Optional[Order]:\n    return Order.objects.filter(pk=pk).first()\n\n"
                    "def tag_for(name) -> tuple[Tag, bool]:\n    return Tag.objects.get_or_create(name=name)\n\n"
                    "def open_order(total):\n    found = Order.objects.get_or_create(total=total)[0]\n    return found\n"),}),
        Example("""
            from django.shortcuts import get_object_or_404
            from shop.models import Order

            def pay_all(order):
                order.paid = True
                order.save()  # expect

            class Payer:
                def __init__(self, pk):
                    self.order = get_object_or_404(Order, pk=pk)

                def pay(self):
                    self.order.save()  # expect

            def pay(request, pk):
                pay_all(get_object_or_404(Order, pk=pk))
                Payer(pk).order.delete()  # expect
            """, path="shop/utils.py"),
        Example("""
            from shop.models import Order

            def close_first(request):
                unpaid = Order.objects.filter(paid=False)
                first = unpaid.first()
                first.save()  # expect
                order = first
                order = order.customer
                order.save()  # expect
            """),
        Example("""
            from django.http import HttpRequest
            from shop.models import Customer

            class ShopRequest(HttpRequest):
                customer: Customer

            def rename(request: ShopRequest):
                request.customer.name = "x"
                request.customer.save()  # expect
            """),
        Example("""
            from shop.models import Order

            def untag(request):
                Order.tags.through.objects.filter(tag_id=1).delete()  # expect
                OrderTag = Order.tags.through
                OrderTag.objects.all().delete()  # expect
            """),
        Example("""
            from shop.models import Item, Order

            def reprice(request):
                for order in Order.objects.bulk_create([Order(total=1)]):  # expect
                    order.items.create(sku="x")  # expect
                [item.delete() for item in Item.objects.filter(sku="")]  # expect
                for order in list(Order.objects.filter(paid=False)):
                    order.save()  # expect
            """),
        Example("""
            from django.apps import apps
            from django.contrib.contenttypes.models import ContentType
            from shop.models import Order

            def purge(request, model: type[Order], content_type: ContentType, order: Order):
                item = order.items.model(sku="x")  # the related manager's model, called
                item.save()  # expect
                Order.objects.filter(paid=True).model.objects.create(total=1)  # expect
                model.objects.all().delete()  # expect
                apps.get_model("shop", "Tag").objects.create(name="x")  # expect
                content_type.model_class().objects.filter(pk=1).delete()  # expect
            """),
        Example("""
            from django.shortcuts import get_object_or_404

            from core.loading import get_model

            Order = get_model("shop", "Order")  # a library's loader (django-oscar's), at module level
            Tag = get_model("shop.Tag")

            def purge(request, pk):
                order = get_object_or_404(Order, pk=pk)
                order.save()  # expect
                Tag.objects.all().delete()  # expect
                get_model("shop", "Item")._default_manager.create(sku="x")  # expect
            """, files={"core/__init__.py": "", "core/loading.py": (
                "from django.apps import apps\n\n\ndef get_model(label, name=None):\n"
                "    try:\n        return apps.get_model(label, name)\n    except LookupError:\n"
                "        return None\n")}),
        Example("""
            from django.contrib import admin
            from django.db.models.signals import pre_delete
            from shop.models import Order

            @admin.register(Order)
            class OrderAdmin(admin.ModelAdmin):
                def delete_model(self, request, obj):
                    obj.items.all().delete()  # expect

                def close(self, request, queryset):
                    for order in queryset:
                        order.tags.clear()  # expect

            def on_delete(sender, instance, **kwargs):
                instance.items.clear()  # expect

            pre_delete.connect(on_delete, sender=Order)
            """, path="shop/admin.py"),
        Example("""
            from django import forms
            from rest_framework import serializers, viewsets
            from shop.models import Order

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

                def update(self, instance, validated_data):
                    instance.tags.clear()  # expect
                    return instance

            class OrderViewSet(viewsets.ModelViewSet):
                serializer_class = OrderSerializer

                def perform_create(self, serializer):
                    serializer.save().items.create(sku="x")  # expect

                def perform_destroy(self, instance):
                    self.get_queryset().filter(customer=instance.customer).delete()  # expect

            class OrderForm(forms.ModelForm):
                class Meta:
                    model = Order
                    fields = ["total"]

                def save(self, commit=True):
                    order = super().save(commit=False)
                    order.save()  # expect
                    return order
            """, path="shop/api.py"),
        Example("""
            from shop.models import Order

            def unpaid(request):
                Order.unpaid.for_customer(request.user).update(paid=True)  # expect
                Order.unpaid.latest_one().delete()  # expect
            """, files={"shop/models.py": (
                "from django.db import models\n\n"
                "class OrderQuerySet(models.QuerySet):\n"
                "    def for_customer(self, user):\n        return self.filter(customer__user=user)\n\n"
                "    def latest_one(self):\n        return self.order_by('-pk').first()\n\n"
                "class Order(models.Model):\n"
                "    total = models.IntegerField(default=0)\n    paid = models.BooleanField(default=False)\n"
                "    unpaid = OrderQuerySet.as_manager()\n")}),
        # An admin action named in `actions = [...]` gets a queryset of the admin's model,
        # whatever it calls its parameters (a function, or a method named by a string).
        Example("""
            from django.contrib import admin
            from shop.models import Order

            def mark_paid(modeladmin, request, orders):
                orders.update(paid=True)  # expect

            @admin.register(Order)
            class OrderAdmin(admin.ModelAdmin):
                actions = [mark_paid, "archive"]

                def archive(self, request, chosen):
                    chosen.delete()  # expect
            """, path="shop/admin.py"),
        # A receiver of a list of signals gets the sender's instance.
        Example("""
            from django.db.models.signals import post_delete, post_save
            from django.dispatch import receiver
            from shop.models import Order

            @receiver([post_save, post_delete], sender=Order)
            def touch(sender, instance, **kwargs):
                instance.delete()  # expect
            """, path="shop/handlers.py"),
        # A parameter annotated with a generic (`QuerySet[Order]`, `list[Order]`), and a
        # conditional expression whose two branches agree.
        Example("""
            from django.db.models import QuerySet
            from shop.models import Order

            def close_all(request, orders: QuerySet[Order], chosen: list[Order]):
                orders.update(paid=True)  # expect
                for order in chosen:
                    order.save()  # expect

            def pick(request, newest):
                order = Order.objects.last() if newest else Order.objects.first()
                order.delete()  # expect
            """),
        # A copy of an instance is an instance (`copy.copy`, `copy.deepcopy`).
        Example("""
            import copy
            from django.shortcuts import get_object_or_404
            from shop.models import Order

            def duplicate(request, pk):
                order = get_object_or_404(Order, pk=pk)
                clone = copy.copy(order)
                clone.pk = None
                clone.save()  # expect
            """),
        # An annotated local: the annotation, when its value says nothing.
        Example("""
            from shop.models import Order

            def close(request, data):
                order: Order | None = data.get("order")
                if order:
                    order.delete()  # expect
            """),
        # A helper that builds a queryset step by step returns that queryset.
        Example("""
            from shop.models import Order

            def pending_orders(customer=None):
                orders = Order.objects.filter(paid=False)
                if customer:
                    orders = orders.filter(customer=customer)
                return orders

            def cancel(request):
                pending_orders(request.user).update(paid=True)  # expect
            """),
        # Django's auth signals give their receivers the user; contrib managers' own methods
        # (`Site.objects.get_current()`, `ContentType.objects.get_for_model()`) return instances.
        Example("""
            from django.contrib.auth.signals import user_logged_in, user_logged_out
            from django.contrib.contenttypes.models import ContentType
            from django.contrib.sites.models import Site
            from django.dispatch import receiver
            from shop.models import Order

            @receiver(user_logged_in)
            def remember(sender, request, user, **kwargs):
                user.save()  # expect

            def forget(sender, request, user, **kwargs):
                user.groups.clear()  # expect
                Site.objects.get_current().save()  # expect
                ContentType.objects.get_for_model(Order).delete()  # expect

            user_logged_out.connect(forget)
            """, path="shop/handlers.py"),
        # Tuple loop targets over enumerate() and zip(); one of several operands (`a or b`).
        Example("""
            from shop.models import Order, Tag

            def renumber(request):
                for position, order in enumerate(Order.objects.all()):
                    order.save()  # expect
                for order, tag in zip(Order.objects.all(), Tag.objects.all()):
                    tag.delete()  # expect
                order = Order.objects.filter(paid=False).first() or Order.objects.last()
                order.delete()  # expect
            """),
        # A classmethod called on its class: a project class's (what it returns, found in an
        # ancestor too) and a model's (`cls` is the model class); a name bound to a queryset in
        # one branch and to a helper's `Iterator[Order]` in the other holds Orders either way.
        Example("""
            from typing import Iterator

            from shop.models import Order

            class Access:
                @classmethod
                def orders(cls, user):
                    orders = Order.objects.none()
                    orders |= Order.objects.filter(paid=False)
                    return orders.distinct()

            class OwnerAccess(Access):
                pass

            def unpaid(user) -> Iterator[Order]:
                yield from Order.objects.filter(paid=False)

            def close(order):
                order.delete()  # expect

            def close_all(request):
                if request.POST.get("mine"):
                    orders = OwnerAccess.orders(request.user).filter(total__gt=0)
                else:
                    orders = unpaid(request.user)
                for order in orders:
                    close(order)
                Order.first_unpaid().save()  # expect
                Order.blank().save()  # expect
            """, files={"shop/models.py": """
from django.db import models


class Order(models.Model):
    paid = models.BooleanField(default=False)
    total = models.IntegerField(default=0)

    @classmethod
    def first_unpaid(cls):
        return cls.objects.filter(paid=False).first()

    @classmethod
    def blank(cls):
        return cls(total=0)
"""}),
        # A helper returning a tuple or a list of its locals (`return order, tag`), in a base
        # class of a form: what each element holds.
        Example("""
            from django import forms

            from shop.models import Order, Tag

            class OrderFormBase(forms.Form):
                def _build(self):
                    tag = Tag.objects.first()
                    order = Order(total=self.cleaned_data["total"])
                    return order, tag

                def _pending(self):
                    order = Order.objects.filter(paid=False).first()
                    return [order]

            class OrderForm(OrderFormBase):
                def save(self):
                    order, tag = self._build()
                    order.save()  # expect
                    for pending in self._pending():
                        pending.delete()  # expect
            """, path="shop/forms.py"),
        # django-taggit's TaggableManager (or a project's subclass of it) is a many-to-many field.
        Example("""
            from shop.models import Question

            def retag(request, pk):
                question = Question.objects.get(pk=pk)
                question.tags.add("billing")  # expect
                question.topics.clear()  # expect
                return list(question.tags.names())
            """, files={"shop/models.py": """
from django.db import models
from taggit.managers import TaggableManager


class TopicTaggableManager(TaggableManager):
    pass


class Question(models.Model):
    title = models.CharField(max_length=90)
    tags = TaggableManager("Tags", blank=True)
    topics = TopicTaggableManager(related_name="questions")
"""}),
        # A parameter annotated with a ModelSerializer is a saver of its model, as one built
        # in the code is (a serializer nested in a class too): what its `save()` returns is an
        # instance.
        Example("""
            from rest_framework import serializers

            from shop.models import Order

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

            class Api:
                class TagSerializer(serializers.ModelSerializer):
                    class Meta:
                        model = Order
                        fields = ["tags"]

            def replace_order(serializer: OrderSerializer):
                order = serializer.save()
                order.tags.clear()  # expect

            def retag(request):
                Api.TagSerializer(data=request.data).save().delete()  # expect
            """),
        # A list built by `.append()` (of instances, or of tuples of them), and a tuple literal.
        Example("""
            from shop.models import Order

            def import_rows(request, rows):
                orders = []
                pending = []
                for row in rows:
                    order = Order(total=row)
                    pending.append((order, row))
                    orders.append(order)
                for order, row in pending:
                    order.tags.set(row)  # expect
                for order in orders:
                    order.save()  # expect
                for order in (Order.objects.first(), Order.objects.last()):
                    order.delete()  # expect
            """),
        # `authenticate()` returns the user; a GenericForeignKey is an instance of some model;
        # a list annotated and built empty, then appended to.
        Example("""
            from django.contrib.auth import authenticate
            from shop.models import Item

            def login_by_link(request, rows):
                user = authenticate(request, token=request.GET["t"])
                user.save()  # expect
                for flag in Item.objects.filter(sku="spam"):
                    flag.content_object.delete()  # expect
                bucket: list[tuple[Item, dict]] = []
                for row in rows:
                    bucket.append((Item(sku=row), row))
                for item, row in bucket:
                    item.save()  # expect
            """, files={"shop/models.py": """
from django.contrib.auth.models import User
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Item(models.Model):
    sku = models.CharField(max_length=20)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True)
    object_id = models.PositiveIntegerField(null=True)
    content_object = GenericForeignKey("content_type", "object_id")
"""}),
        # An admin registered with a third-party base (from an `admin` module), and its
        # `save_formset`: `formset.save(commit=False)` and `deleted_objects` are instances.
        Example("""
            from django.contrib import admin
            from treebeard.admin import TreeAdmin
            from shop.models import Order

            class OrderAdmin(TreeAdmin):
                def save_model(self, request, obj, form, change):
                    obj.save()  # expect

                def save_formset(self, request, form, formset, change):
                    for item in formset.save(commit=False):
                        item.save()  # expect
                    for gone in formset.deleted_objects:
                        gone.delete()  # expect
                    form.instance.tags.clear()  # expect

            admin.site.register(Order, OrderAdmin)
            """, path="shop/admin.py"),
        # A parameter some call sites pass a model to and others something untypable: the
        # untypable ones are no evidence either way.
        Example("""
            from shop.models import Order

            def close(order):
                order.save()  # expect

            def view(request, pk):
                close(Order.objects.get(pk=pk))
                close(request.POST.get("order"))
            """, path="shop/helpers.py"),
        # A list built empty with `list()` and appended to: its items are what was appended.
        Example("""
            from shop.models import Order

            def reorder(request):
                orders = list()
                for total in (1, 2):
                    orders.append(Order(total=total))
                for order in orders:
                    order.tags.clear()  # expect
            """),
        # A ModelSerializer built in a view: its `save()` returns its Meta.model, and a
        # serializer whose base is a third-party ModelSerializer is one too.
        Example("""
            from shop.serializers import OrderSerializer

            def import_order(request):
                serializer = OrderSerializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                order = serializer.save()
                order.tags.clear()  # expect
            """, files={"shop/serializers.py": """
from drf_writable_nested import WritableNestedModelSerializer

from shop.models import Order


class OrderSerializer(WritableNestedModelSerializer):
    class Meta:
        model = Order
        fields = ["total"]
"""}),
        # An abstract ModelSerializer (no Meta.model of its own): `instance` in `update` is
        # still an instance of some model.
        Example("""
            from rest_framework import serializers

            class PartialUpdateSerializer(serializers.ModelSerializer):
                def update(self, instance, validated_data):
                    for key, value in validated_data.items():
                        setattr(instance, key, value)
                    instance.save(update_fields=list(validated_data))  # expect
                    return instance
            """, path="shop/serializers.py"),
        # A mixin's `self.model.objects`: the manager of some model.
        Example("""
            class MergeMixin:
                def merge(self, request, pk, target):
                    source = self.model.objects.get(pk=pk)
                    source.delete()  # expect
            """),
        # A manager a third-party base declares (django-softdelete's `global_objects`):
        # an attribute of a model class called like a manager is one.
        Example("""
            from shop.models import Order

            def restore(request, pk):
                Order.global_objects.filter(pk=pk).update(paid=False)  # expect
            """),
        # A file field's FieldFile saves its instance on `save(name, content)` and `delete()`
        # unless told `save=False`.
        Example("""
            from shop.models import Customer

            def set_avatar(request, pk):
                customer = Customer.objects.get(pk=pk)
                customer.avatar.save(request.FILES["a"].name, request.FILES["a"])  # expect
                customer.avatar.save("a.png", request.FILES["a"], save=False)
                customer.avatar.delete()  # expect
                customer.avatar.delete(save=False)
            """, files={"shop/models.py": """
from django.db import models


class Customer(models.Model):
    avatar = models.ImageField(upload_to="avatars")
"""}),
        # A factory returning instances of several subclasses returns their common base; a
        # thread's target and an executor's submit() are called with the arguments given;
        # a static method's first parameter is not `self`.
        Example("""
            import threading

            from shop.models import Order

            class Exporter:
                def export(self, order):
                    order.save()  # expect

            class Csv(Exporter):
                pass

            class Json(Exporter):
                pass

            class Archive:
                @staticmethod
                def close(order):
                    order.delete()  # expect

            def exporter_for(kind):
                if kind == "csv":
                    return Csv()
                return Json()

            def export(request, pk):
                order = Order.objects.get(pk=pk)
                exporter = exporter_for(request.GET["kind"])
                threading.Thread(target=exporter.export, args=[order]).start()
                Archive.close(order)
            """, path="shop/exports.py"),
        # `self.get_serializer(...)` in a DRF view is its serializer_class: save() gives its model.
        Example("""
            from rest_framework import generics, serializers
            from rest_framework.response import Response

            from shop.models import Order

            class OrderSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Order
                    fields = ["total"]

            class OrderCreate(generics.GenericAPIView):
                serializer_class = OrderSerializer

                def post(self, request):
                    serializer = self.get_serializer(data=request.data)
                    serializer.is_valid(raise_exception=True)
                    order = serializer.save()
                    order.tags.clear()  # expect
                    return Response(serializer.data)
            """),
        # django-allauth's account adapters sign up and log in the user model.
        Example("""
            from allauth.account.adapter import DefaultAccountAdapter

            class AccountAdapter(DefaultAccountAdapter):
                def save_user(self, request, user, form, commit=True):
                    user = super().save_user(request, user, form, commit=False)
                    user.save()  # expect
                    user.groups.clear()  # expect
                    return user

                def login(self, request, user):
                    user.save()  # expect
                    return super().login(request, user)
            """, path="shop/adapters.py"),
        # An m2m_changed receiver's instance is the model declaring the relation; a tree
        # model's navigation (django-mptt, treebeard) gives nodes of the same model.
        Example("""
            from django.db.models.signals import m2m_changed
            from django.dispatch import receiver

            from shop.models import Category

            @receiver(m2m_changed, sender=Category.tags.through)
            def propagate(sender, instance, action, **kwargs):
                for child in instance.get_descendants():
                    child.tags.set(instance.tags.all())  # expect
                instance.get_root().save()  # expect
                Category.get_root_nodes().update(depth=1)  # expect
            """, path="shop/handlers.py", files={"shop/models.py": """
from django.db import models
from treebeard.mp_tree import MP_Node


class Tag(models.Model):
    name = models.CharField(max_length=20)


class Category(MP_Node):
    tags = models.ManyToManyField(Tag)
"""}),
        # Inside `if isinstance(x, Model):` the name is an instance of that model; `A if c
        # else None` is A or nothing.
        Example("""
            from shop.models import Customer, Order

            def merge(request, source, target):
                if isinstance(source, Order) and source.pk != target.pk:
                    source.items.all().delete()  # expect
                elif isinstance(source, Customer):
                    source.delete()  # expect
                source.save()

            def set_password(request):
                user = request.user if request.user.is_authenticated else None
                user.save()  # expect
            """),
        # A call in an `if` or `while` test is a call site too, and so is each call along a
        # value's receiver chain (`self.sync(customer).id`).
        Example("""
            from django.shortcuts import get_object_or_404

            from shop.models import Order

            def _cancel(order, reason):
                order.delete()  # expect
                return True

            def cancel(request, pk):
                order = get_object_or_404(Order, pk=pk)
                if not _cancel(order, request.POST["reason"]) and request.user.is_staff:
                    return None

            class Remote:
                def push(self, order):
                    order.save(update_fields=["remote_id"])  # expect
                    return order

                def sync(self, pk):
                    return self.push(Order.objects.get(pk=pk)).remote_id
            """),
        # A nested function reads its enclosing function's names; a two-argument super()
        # names the form whose parent saves.
        Example("""
            from django import forms

            from shop.models import Order

            class OrderForm(forms.ModelForm):
                class Meta:
                    model = Order
                    fields = ["total"]

            def send(order: Order):
                def on_error(error):
                    order.save(update_fields=["status"])  # expect
                return on_error

            def save_form(form, user):
                obj = super(OrderForm, form).save(commit=False)
                obj.save()  # expect
                return obj
            """, path="shop/utils.py"),
        # factory_boy builds instances of its Meta.model: seed-data code outside the tests
        # writes through them.
        Example("""
            from shop.tests.factories import OrderFactory, TagFactory

            def seed():
                order = OrderFactory(total=10)
                order.tags.add(TagFactory.create())  # expect
                for tag in TagFactory.create_batch(3):
                    tag.delete()  # expect
            """, path="shop/sampledata.py", files={"shop/tests/__init__.py": "", "shop/tests/factories.py": """
import factory

from shop.models import Order, Tag


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
"""}),
        # A class declaring Django relation fields is a model whatever its base is written as.
        Example("""
            from shop.models import Watch

            def unwatch(request):
                Watch.objects.filter(user=request.user).delete()  # expect
            """, files={"shop/models.py": """
from django.conf import settings
from django.db import models

from shop.swappable import base_from_setting

ModelBase: models.Model = base_from_setting("SHOP_MODEL_BASE", models.Model)


class Watch(ModelBase):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
"""}),
        # A base method that raises NotImplementedError returns what its overrides agree on
        # (an override returning something untypable is no evidence)...
        Example("""
            class Importer:
                def parse(self, data):
                    raise NotImplementedError

                def finish(self, order):
                    pass

                def run(self, rows):
                    for row in rows:
                        order = self.parse(row)
                        order.tags.clear()  # expect
                        self.finish(order)
            """, path="shop/importers.py", files={"shop/imports.py": IMPORTERS}),
        # ...an override is called by its base's `self.m(...)`, so those call sites type its
        # parameters; a constructor's arguments type `__init__`'s parameters.
        Example(IMPORTERS.replace("pass  # finish", "order.save()  # expect"), path="shop/imports.py",
                files={"shop/importers.py": """
class Importer:
    def parse(self, data):
        raise NotImplementedError

    def finish(self, order):
        pass

    def run(self, rows):
        for row in rows:
            self.finish(self.parse(row))
"""}),
        # A queryset's `.iterator()` gives its instances; a name passed through a method that
        # returns it keeps its model; a class's `model = Order` types `self.model`; a name
        # bound to None before the branches that bind it holds what they bind.
        Example("""
            from shop.models import Order

            class Sync:
                model = Order

                def pass_through(self, order):
                    return order

                def purge(self):
                    for order in Order.objects.filter(paid=False).iterator(chunk_size=50):
                        order.delete()  # expect

                def close(self, pk):
                    order = Order.objects.get(pk=pk)
                    order = self.pass_through(order=order)
                    order.save()  # expect

                def load(self, pk):
                    stored = None
                    if pk:
                        stored = self.model.objects.filter(pk=pk).first()
                    if not stored:
                        stored = self.model(total=0)
                    return stored

                def store(self, pk):
                    self.load(pk).save()  # expect
            """, path="shop/sync.py"),
        # Model classes (or instances) held in a collection: a loop over a literal tuple,
        # list or set of them, or over a module-level constant; a dict of them by key, its
        # `get()`, `values()` and `items()`; and the app registry's `get_models()`.
        Example("""
            from django.apps import apps

            from shop.models import Customer, Item, Order

            PURGED = (Item, Order)
            BY_KIND = {"order": Order, "item": Item}

            def reset(request, kind):
                for model in [Item, Order]:
                    model.objects.all().delete()  # expect
                for model in PURGED:
                    model.objects.filter(pk=1).update(total=0)  # expect
                BY_KIND[kind].objects.create()  # expect
                BY_KIND.get(kind).objects.create()  # expect
                for model in BY_KIND.values():
                    model.objects.all().delete()  # expect
                for name, model in BY_KIND.items():
                    model.objects.all().delete()  # expect

            def touch(request):
                order, customer = Order.objects.first(), Customer.objects.first()
                for obj in (order, customer):
                    obj.save()  # expect
                by_role = {"buyer": customer}
                by_role["buyer"].delete()  # expect

            def wipe(request):
                for model in apps.get_models():
                    model.objects.all().delete()  # expect
                for config in apps.get_app_configs():
                    for model in config.get_models():
                        model.objects.all().delete()  # expect
                for model in apps.get_app_config("shop").get_models():
                    model.objects.all().delete()  # expect
            """),
        # Receivers connected in `AppConfig.ready()` to a model the app registry gives:
        # `sender=apps.get_model(...)` (positional or keyword arguments), a local name bound
        # to one, the config's own `self.get_model(...)`, and `connect(receiver=...)`.
        Example("""
            def item_saved(sender, instance, **kwargs):
                instance.order.save()  # expect

            def order_saved(sender, instance, **kwargs):
                instance.items.update(sku="x")  # expect

            def order_deleted(sender, instance, **kwargs):
                instance.customer.orders.all().delete()  # expect

            def customer_saved(sender, instance, **kwargs):
                instance.orders.update(paid=True)  # expect
            """, path="shop/handlers.py", files={"shop/apps.py": """\
from django.apps import AppConfig, apps
from django.db.models import signals

from shop import handlers


def connect_signals():
    signals.post_save.connect(handlers.item_saved, sender=apps.get_model("shop", "Item"))
    Order = apps.get_model(app_label="shop", model_name="Order")
    signals.post_save.connect(handlers.order_saved, sender=Order)


class ShopConfig(AppConfig):
    name = "project.shop"
    label = "shop"

    def ready(self):
        connect_signals()
        signals.post_delete.connect(receiver=handlers.order_deleted, sender=apps.get_model("shop.Order"))
        Customer = self.get_model(model_name="Customer")
        signals.post_save.connect(dispatch_uid="c", receiver=handlers.customer_saved, sender=Customer)
"""}),
    ]

    VALID = [
        # A name that held the registry's model and was rebound before `connect()` names
        # something else: the receiver's `instance` is some model, its `items` unknown.
        Example("""
            def order_saved(sender, instance, **kwargs):
                instance.items.update(sku="x")
            """, path="shop/handlers.py", files={"shop/apps.py": """\
from django.apps import AppConfig, apps
from django.db.models import signals

from shop import handlers, registry


class ShopConfig(AppConfig):
    name = "shop"

    def ready(self):
        Order = apps.get_model("shop", "Order")
        Order = registry.swapped(Order)
        signals.post_save.connect(handlers.order_saved, sender=Order)
""", "shop/registry.py": "def swapped(model):\n    return model\n"}),
        # Collections that hold something other than models: form classes, plain dicts, a
        # set's own `add`/`remove`, a dict of models' own `update`/`pop`; a collection mixing
        # a model with a value layerguard cannot type; a name bound twice at module level.
        Example("""
            from shop.forms import OrderForm, TagForm
            from shop.models import Order, Tag

            FORMS = (OrderForm, TagForm)
            DEFAULTS = {"a": 1}
            MIXED = (Order, object)
            TWICE = (Order,)
            TWICE = (Tag,)

            def edit(request, thing):
                for form_class in FORMS:
                    form_class(request.POST).save()
                for options in ({"a": 1}, {"b": 2}):
                    options.update(c=3)
                DEFAULTS.update(b=2)
                seen = {Order.objects.first()}
                seen.add(Order.objects.last())
                seen.remove(None)
                by_kind = {"order": Order}
                by_kind.update(tag=Tag)
                by_kind.pop("order")
                for model in (Order, thing):
                    model.objects.all().delete()
                for model in MIXED:
                    model.objects.all().delete()
                for model in TWICE:
                    model.objects.all().delete()
                for key in {"order": Order}:
                    key.delete()
            """, files={"shop/forms.py": "class OrderForm:\n    pass\n\n\nclass TagForm:\n    pass\n"}),
        # A plain class's `self.model` may be anything (a plain Serializer's `instance`: the
        # TotalSerializer example below); `Model.<attr>.values()` may be a dict's or a
        # choices class's; overrides that disagree on what they return leave the base's
        # call unknown.
        Example("""
            from shop.models import Customer, Order

            class Trainer:
                def fit(self):
                    self.model.save("weights.bin")

            def labels(request):
                return list(Order.STATUS_LABELS.values())

            class Base:
                def make(self):
                    raise NotImplementedError

                def run(self):
                    self.make().save()

            class Orders(Base):
                def make(self):
                    return Order()

            class Customers(Base):
                def make(self):
                    return Customer()
            """),
        # A nested function that binds the name itself, or a method's free name (a global),
        # is not its enclosing function's.
        Example("""
            from shop.models import Order

            def send(order: Order):
                def on_error(error):
                    order = error.payload
                    order.save()
                return on_error

            class Sender:
                def send(self):
                    order.save()
            """, path="shop/utils.py"),
        # Classes with no project base in common are no evidence; nor are a thread's
        # arguments held in a variable.
        Example("""
            import threading

            from shop.models import Order

            class Csv:
                def export(self, order):
                    order.save()

            class Json:
                def export(self, order):
                    order.save()

            class Mailer:
                def send(self, order):
                    order.save()

            def exporter_for(kind):
                return Csv() if kind == "csv" else Json()

            def export(request, pk):
                order = Order.objects.get(pk=pk)
                exporter = exporter_for(request.GET["kind"])
                exporter.export(order)
                arguments = [order]
                threading.Thread(target=Mailer().send, args=arguments).start()
            """, path="shop/exports.py"),
        # A form's or a serializer's file field is no FieldFile of an instance; a class whose
        # fields are not Django's is no model.
        Example("""
            from django import forms

            from shop.models import Customer

            class AvatarForm(forms.Form):
                avatar = forms.ImageField()

            class Document:
                owner = ForeignKey("auth.User")

            def upload(request, pk):
                form = AvatarForm(request.POST, request.FILES)
                form.avatar.save("a.png", request.FILES["a"])
                Document.objects.create(owner=request.user)
                Customer.objects.get(pk=pk).name.delete()
            """),
        # A list appended to and extended with something else, a tuple of unlike things.
        Example("""
            from shop.models import Order

            def import_rows(request, rows):
                mixed = []
                mixed.append(Order())
                mixed.extend(rows)
                for thing in mixed:
                    thing.save()
                for thing in (Order(), rows):
                    thing.save()
            """),
        # A signal that does not give a user, a project signal named like Django's, a
        # registration of something that is not an admin, a dict's items, and a parameter
        # two call sites pass different models to.
        Example("""
            from django.contrib.auth.signals import user_login_failed
            from django.dispatch import Signal, receiver
            from modeltranslation.translator import TranslationOptions, translator
            from shop.models import Order, Tag

            user_logged_in = Signal()

            @receiver(user_login_failed)
            def failed(sender, credentials, request, **kwargs):
                credentials.update(password="***")

            @receiver(user_logged_in)
            def own(sender, user, **kwargs):
                user.save()

            class OrderOptions(TranslationOptions):
                def save_model(self, request, obj, form, change):
                    obj.save()

            translator.register(Order, OrderOptions)

            def either(thing):
                thing.save()

            def view(request, names):
                for name, value in names.items():
                    value.save()
                either(Order.objects.first())
                either(Tag.objects.first())
            """, path="shop/handlers.py"),
        Example("""
            from shop.models import Order

            def order_create(*, total: int) -> Order:
                order = Order.objects.create(total=total)
                order.items.create(sku="x")
                return order
            """, path="shop/services.py"),
        Example("""
            from shop.forms import OrderForm
            from shop.serializers import OrderSerializer

            def edit(request):
                form = OrderForm(request.POST)
                if form.is_valid():
                    form.save()
                serializer = OrderSerializer(data=request.data)
                serializer.is_valid(raise_exception=True)
                serializer.save()
            """),
        Example("""
            from django.core.cache import cache
            from django.core.files.storage import default_storage
            from PIL import Image

            def lookalikes(request, upload):
                options = {}
                options.update(a=1)
                seen = set()
                seen.add(1)
                seen.clear()
                cache.delete("k")
                cache.set("k", 1)
                image = Image.open(upload)
                image.save("/tmp/x.png")
                default_storage.delete("x.png")
                request.session.save()
            """),
        Example("""
            from django.db import models

            class Order(models.Model):
                total = models.IntegerField()

                def save(self, *args, **kwargs):
                    self.total = max(self.total, 0)
                    super().save(*args, **kwargs)

                def close(self):
                    self.save()
                    Order.objects.filter(pk=self.pk).update(total=0)
            """, path="shop/models.py"),
        Example("""
            from shop.models import Order

            def test_order_total():
                Order.objects.create(total=1).save()
            """, path="shop/tests/test_orders.py"),
        Example("""
            from core.registry import registry

            Widget = registry.get_model("sidebar")  # not a model lookup: one argument, no label
            Unknown = registry.get_model("shop", "Missing")  # no such model in the app

            def render(request):
                Widget.objects.create()
                Unknown.save()
                registry.get_model(request.GET["kind"]).update()
            """, files={"core/__init__.py": "", "core/registry.py": "registry = object()\n"}),
        Example("""
            def forwards(apps, schema_editor):
                Order = apps.get_model("shop", "Order")
                Order.objects.create(total=1)
            """, path="shop/migrations/0002_seed.py"),
        Example("""
            from django.db import connection
            from shop.models import Order

            def order_list(*, paid: bool):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT id FROM shop_order WHERE paid = %s", [paid])
                rows = Order.objects.filter(paid=paid).in_bulk()
                rows.update({})
                return Order.objects.filter(paid=paid).count()
            """, path="shop/selectors.py"),
        Example("""
            def save_all(objects, workbook):
                for obj in objects:
                    obj.save()
                workbook.save("out.xlsx")
            """, path="shop/utils.py"),
        Example("""
            from shop.models import Order

            def bump(request):
                order = Order.objects.get(pk=1)
                order = {"total": order.total}
                order.update(total=2)
            """),
        Example("""
            from django.contrib.sites.models import Site

            SHOP_SITE = Site.objects.get_or_create(domain="shop.example.com")[0]
            """, path="deploy/production.py", files={
                # Settings by what they are: named by DJANGO_SETTINGS_MODULE, not called settings.py.
                "deploy/__init__.py": "",
                "manage.py": "import os\n\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'deploy.production')\n",
            }),
        Example("""
            from shop.models import Order

            def lookalikes(request, data, model, rows):
                data.order.delete()
                data.tags.through.objects.all().delete()
                model.objects.create()
                Order.objects.get(pk=1).not_a_relation.delete()
                for row in rows:
                    row.save()
                [row.delete() for row in rows]
            """),
        Example("""
            from rest_framework import serializers
            from shop.models import Order

            class TotalSerializer(serializers.Serializer):
                def update(self, instance, validated_data):
                    instance.save()
                    return instance

            class SaveMixin:
                def save_model(self, request, obj, form, change):
                    obj.save()
            """, path="shop/api.py"),
        Example("""
            from shop.models import Order

            def touch(thing):
                thing.save()

            def edit(request, form):
                touch(form)  # only untypable call sites: nothing to go on
                touch(request.session)
            """, path="shop/utils.py"),
        Example("""
            from shop.lookups import order_total

            class Report:
                def __init__(self, workbook):
                    self.workbook = workbook

                def write(self, request):
                    self.workbook.save("out.xlsx")
                    order_total(1).save()
            """, path="shop/utils.py", files={
                "shop/lookups.py": ("from shop.models import Order\n\n"
                                    "def order_total(pk) -> dict:\n    return Order.objects.filter(pk=pk).values().first()\n"),
            }),
        # `actions` on a class that is not a ModelAdmin says nothing about its functions.
        Example("""
            def mark(toolbar, request, items):
                items.update(done=True)

            class Toolbar:
                actions = [mark]
            """, path="shop/toolbar.py"),
        # A branch that is not a model, a list of strings.
        Example("""
            from shop.models import Order

            def pick(request, newest, data):
                found = Order.objects.last() if newest else data
                found.update(seen=True)

            def untag(request, names: list[str]):
                names.remove("x")
            """),
        # A copy of a dict, a local annotated as a dict, a name that is a queryset on one
        # path and an instance on another: none is known to be a model write.
        Example("""
            import copy
            from shop.models import Order

            DEFAULTS = {"page": 1}

            def options(request, data):
                chosen = copy.deepcopy(DEFAULTS)
                chosen.update(page=2)
                entry: dict = data.get("entry")
                entry.update(seen=True)
                return chosen

            def first_or_all(flag):
                orders = Order.objects.all()
                if flag:
                    orders = orders.first()
                return orders

            def touch(request):
                first_or_all(True).update(paid=True)
            """),
        # A values() queryset's iterator gives dicts; a method that rebinds its parameter
        # before returning it does not pass the caller's value through; a `model`
        # attribute naming a form is no model.
        Example("""
            from shop.forms import OrderForm
            from shop.models import Order

            class Sync:
                model = OrderForm

                def replace(self, order):
                    order = {"pk": order}
                    return order

                def rows(self):
                    for row in Order.objects.values("pk").iterator():
                        row.update(seen=True)

                def close(self, pk):
                    order = Order.objects.get(pk=pk)
                    order = self.replace(order)
                    order.update(paid=True)

                def build(self):
                    return self.model(data={})
            """, path="shop/sync.py"),
    ]

    def check_match(self, match: SemgrepMatch, rule: SemgrepRule, context: FileContext) -> Violation | None:
        project = context.project
        if project.is_service_module(context.path):
            return None
        start = context.position(match.start_offset)
        end = context.position(match.end_offset)
        if rule.id.endswith("-raw-sql"):
            call = _write_call(context, start, end)
            if call is None:
                return None
            values = {"CURSOR": short_code(call.func.value), "EXECUTE": call.func.attr}
            return self._report(context, call, rule, values)
        call = _write_call(context, start, end)
        if call is None:
            return None
        write = context.types.write_of(call)
        if write is None:
            return None
        if project.is_model_module(context.path):
            # A model module may write its own app's models (a model method, a manager).
            own_app = project.app_of(context.path)
            written = project.model_info(write.model) if write.model else None
            if written is None or (own_app is not None and written.app == own_app.label):
                return None
        values = {"RECV": short_code(call.func.value), "WRITE": call.func.attr}
        return self._report(context, call, rule, values)

    def untyped(self, match: SemgrepMatch, rule: SemgrepRule, context: FileContext) -> tuple[ast.Call, str] | None:
        """A write-shaped call this rule stays silent on because its receiver could not be
        typed, and why (`check --show-untyped`); None for anything else."""
        if rule.id.endswith("-raw-sql") or context.project.is_service_module(context.path):
            return None
        call = _write_call(context, context.position(match.start_offset), context.position(match.end_offset))
        if call is None or context.types.type_of(call.func.value, call) is not None:
            return None
        return call, context.types.why_unknown(call.func.value, call)

    def _report(self, context: FileContext, call: ast.Call, rule: SemgrepRule, values: dict[str, str]) -> Violation:
        layer = context.project.layer_at(context.path, call.lineno)
        where = f"in {layer}" if layer else "outside a service module"
        hint = context.project.service_module_hint(context.path)
        message = f"{interpolate(rule.message, values)} {where}; move it to {hint}"
        return context.violation(self.code, call, message)


def _write_call(context: FileContext, start: tuple[int, int], end: tuple[int, int]) -> ast.Call | None:
    """The outermost write-shaped call inside the match's span."""
    for call in context.calls_within(start, end):
        if isinstance(call.func, ast.Attribute) and call.func.attr in WRITE_METHODS | {"execute", "executemany"}:
            return call
    return None
