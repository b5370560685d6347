from django.db import connection
from rest_framework import generics, serializers

from billing.models import Invoice


class InvoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Invoice
        fields = ["id", "number", "paid_at"]


class InvoiceDetail(generics.RetrieveDestroyAPIView):
    queryset = Invoice.objects.all()
    serializer_class = InvoiceSerializer

    def perform_destroy(self, instance):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM payments_invoice WHERE id = %s", [instance.pk])
