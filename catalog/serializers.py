from rest_framework import serializers

from catalog.models import Product


class ProductSerializer(serializers.ModelSerializer):
    available = serializers.IntegerField(source="stock.available", read_only=True, default=0)

    class Meta:
        model = Product
        fields = ["sku", "name", "unit_price", "currency", "available"]
