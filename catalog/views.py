"""GET /api/products/: the active products, paginated, optionally found by text (`search`) and
within a category (`category`), each with the units available right now.

Lists without a search text are cached (catalog/cache.py) per category and page until the
catalog changes (a product, its stock, its pictures, a category); a search is answered from
the database each time (any text makes a new key: caching them would let anyone fill Redis)."""

import hashlib

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer

from catalog import cache, search
from catalog.models import Category
from catalog.serializers import (MAX_PAGE, MAX_PAGE_SIZE, ProductFilterSerializer, ProductQuerySerializer,
                                 ProductSerializer)
from harbor.api import ErrorSerializer, ValidationErrorSerializer


class ProductPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_schema_operation_parameters(self, view):
        # The bounds the view enforces (ProductQuerySerializer), so the schema says them.
        return [
            {"name": "page", "in": "query", "required": False, "description": "A page number (from 1).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
            {"name": "page_size", "in": "query", "required": False, "description": "Products per page (default 50).",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}},
        ]


class ProductList(generics.ListAPIView):
    """Active products with the units available right now, 50 a page (`page_size` up to 100), in
    SKU order, or best match first with `search`."""

    serializer_class = ProductSerializer
    pagination_class = ProductPagination

    def get_queryset(self):
        query = self.query
        if query.get("category") and query["category"] not in self.category_slugs():
            return search.products(search.Filters()).none()
        filters = search.Filters(q=query.get("search", ""), category=(
            Category.objects.get(slug=query["category"]) if query.get("category") else None))
        products = search.products(filters)  # best match first when searching
        if not filters.q:
            products = products.order_by("sku")
        return products

    def category_slugs(self):
        return set(cache.cached("categories.json", lambda: sorted(Category.objects.values_list("slug", flat=True))))

    @extend_schema(parameters=[ProductFilterSerializer],
                   responses={200: ProductSerializer(many=True), 400: OpenApiResponse(ValidationErrorSerializer),
                              404: OpenApiResponse(ErrorSerializer, "A page past the last one.")})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        checked = ProductQuerySerializer(data=request.query_params)
        if not checked.is_valid():
            raise ValidationError(checked.errors)
        self.query = checked.validated_data

        def build():
            return JSONRenderer().render(super(ProductList, self).list(request, *args, **kwargs).data).decode()

        if (self.query.get("search") or "").strip():
            return HttpResponse(build(), content_type="application/json")
        if self.query.get("category") and self.query["category"] not in self.category_slugs():
            return HttpResponse(build(), content_type="application/json")  # nothing to list: not worth a key
        # Per category, page and size, and per host: the page's next/previous links are absolute.
        shape = [request.scheme, request.get_host(), self.query.get("category", ""), self.query.get("page", 1),
                 self.query.get("page_size", ProductPagination.page_size)]
        key = "products.json" if shape[2:] == ["", 1, ProductPagination.page_size] else (
            "products:" + hashlib.sha256(repr(shape[2:]).encode()).hexdigest()[:24])
        key += ":" + hashlib.sha256(f"{shape[0]}://{shape[1]}".encode()).hexdigest()[:12]
        return HttpResponse(cache.cached(key, build), content_type="application/json")  # the cache stores JSON
