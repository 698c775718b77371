from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.renderers import JSONRenderer

from catalog import cache
from catalog.models import Product
from catalog.serializers import ProductSerializer


class ProductList(generics.ListAPIView):
    """Active products with the units available right now (cached until the catalog changes)."""

    serializer_class = ProductSerializer
    queryset = Product.objects.filter(active=True).select_related("stock").order_by("sku")

    @extend_schema(responses=ProductSerializer(many=True))
    def list(self, request, *args, **kwargs):
        body = cache.cached("products.json", lambda: JSONRenderer().render(
            self.get_serializer(self.get_queryset(), many=True).data).decode())  # the cache stores JSON values
        return HttpResponse(body, content_type="application/json")
