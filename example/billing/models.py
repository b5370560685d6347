from django.db import models


class Invoice(models.Model):
    order = models.OneToOneField("shop.Order", on_delete=models.PROTECT)
    number = models.CharField(max_length=30, unique=True)
    paid_at = models.DateTimeField(null=True)
