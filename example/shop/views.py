from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from rest_framework import status
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.forms import OrderForm
from shop.models import Order
from shop.serializers import OrderSerializer
from shop.services import order_pay


@api_view(["POST"])
def order_create(request):
    serializer = OrderSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    order = serializer.save()  # delegation to the serializer: not a write here
    cache.delete(f"orders:{request.user.pk}")  # a cache, not the database
    return Response({"id": order.pk}, status=status.HTTP_201_CREATED)


class OrderPay(APIView):
    def post(self, request, pk):
        order = get_object_or_404(Order, pk=pk)
        order.paid = True
        order.save()
        return Response(status=status.HTTP_204_NO_CONTENT)

    def put(self, request, pk):
        order_pay(order=get_object_or_404(Order, pk=pk))  # the way it should be
        return Response(status=status.HTTP_204_NO_CONTENT)


def order_edit(request, pk):
    form = OrderForm(request.POST or None, instance=get_object_or_404(Order, pk=pk))
    if form.is_valid():
        form.save()  # a ModelForm: not flagged
        return redirect("/orders/")
    summary = {"form": form}
    summary.update(title="Edit order")  # dict.update: not flagged
    return render(request, "shop/order_edit.html", summary)


@api_view(["POST"])
def order_refund(request, pk):
    # A fat view: a transaction, a row lock and an e-mail, all of it the service's job.
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=pk)
        order.paid = False
    send_mail("Refund", f"Order {order.pk} is refunded", None, [request.user.email])
    return Response(status=status.HTTP_202_ACCEPTED)
