from rest_framework import serializers

from catalog.models import Product


class ProductSerializer(serializers.ModelSerializer):
    available = serializers.IntegerField(read_only=True, default=0,
                                         help_text="Units in the warehouses (all of them: no address is known here).")

    class Meta:
        model = Product
        fields = ["sku", "name", "unit_price", "currency", "available"]
