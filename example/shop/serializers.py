from rest_framework import serializers

from shop.models import Item, Order


class OrderSerializer(serializers.ModelSerializer):
    skus = serializers.ListField(child=serializers.CharField(), write_only=True)

    class Meta:
        model = Order
        fields = ["id", "customer", "skus", "total"]

    def create(self, validated_data):
        skus = validated_data.pop("skus")
        order = Order.objects.create(**validated_data)
        for sku in skus:
            order.items.create(sku=sku)
        return order
