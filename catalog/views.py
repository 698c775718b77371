from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from rest_framework.renderers import JSONRenderer

from catalog import cache
from catalog.models import Product
from catalog.serializers import ProductSerializer


class ProductList(generics.ListAPIView):
    """Active products with the units available right now (cached until the catalog changes)."""

    serializer_class = ProductSerializer
    # `available`: the units in every active warehouse (inventory's stock rows, by their reverse
    # name: the catalog imports nothing above it), summed in the same query.
    queryset = Product.objects.filter(active=True).annotate(
        available=Coalesce(Sum("stocks__available", filter=Q(stocks__warehouse__active=True)), 0)).order_by("sku")

    @extend_schema(responses=ProductSerializer(many=True))
    def list(self, request, *args, **kwargs):
        body = cache.cached("products.json", lambda: JSONRenderer().render(
            self.get_serializer(self.get_queryset(), many=True).data).decode())  # the cache stores JSON values
        return HttpResponse(body, content_type="application/json")
