from django.urls import path

from billing.views import InvoiceDetail
from shop import views

urlpatterns = [
    path("orders/", views.order_create),
    path("orders/<int:pk>/pay/", views.OrderPay.as_view()),
    path("invoices/<int:pk>/", InvoiceDetail.as_view()),
]
