from rest_framework import generics

from catalog.models import Product
from catalog.serializers import ProductSerializer


class ProductList(generics.ListAPIView):
    """Active products with the units available right now."""

    serializer_class = ProductSerializer
    queryset = Product.objects.filter(active=True).select_related("stock").order_by("sku")
