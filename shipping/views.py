"""GET /api/shipping-methods/?country=XX[&sku=…&quantity=…]: the methods that deliver there,
priced for that cart (or for an empty cart), cheapest first."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from catalog.models import Product
from harbor.api import ValidationErrorSerializer
from shipping import rates
from harbor.countries import SHIPPING_COUNTRIES

MAX_LINES = 50  # the checkout's limits (orders.serializers)
MAX_QUANTITY = 100
COUNTRY_CODES = [code for code, _ in SHIPPING_COUNTRIES]


class ShippingMethodSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Stable id: send it as the order's shipping_method.")
    name = serializers.CharField()
    price = serializers.IntegerField(help_text="Minor units, for the cart given (sku/quantity), else an empty one.")
    currency = serializers.CharField()
    estimate_days = serializers.IntegerField(help_text="Delivered within this many business days.")
    estimate_days_min = serializers.IntegerField(help_text="At the earliest after this many business days.")


@extend_schema(
    parameters=[
        OpenApiParameter("country", OpenApiTypes.STR, required=True, enum=COUNTRY_CODES,
                         description="ISO 3166-1 alpha-2 code of a country Harbor ships to."),
        OpenApiParameter("sku", {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 64},
                                 "maxItems": MAX_LINES}, explode=True,
                         description="The cart's SKUs (active products), each with a quantity at the same position."),
        OpenApiParameter("quantity", {"type": "array", "items": {"type": "integer", "minimum": 1,
                                                                 "maximum": MAX_QUANTITY}, "maxItems": MAX_LINES},
                         explode=True, description="Units of the sku at the same position (1-100)."),
    ],
    responses={200: ShippingMethodSerializer(many=True), 400: OpenApiResponse(ValidationErrorSerializer)},
    description="Every `sku` needs a `quantity` (same count, same order), each SKU once, all of active "
                "products of one currency.",
)
@api_view(["GET"])
def shipping_methods(request):
    country = request.query_params.get("country", "")
    if country not in COUNTRY_CODES:
        raise exceptions.ValidationError({"country": ["Enter the two-letter code of a country Harbor ships to: "
                                                      + ", ".join(COUNTRY_CODES) + "."]})
    skus, quantities = request.query_params.getlist("sku"), request.query_params.getlist("quantity")
    cart = _cart(skus, quantities)
    offered = rates.quotes(country, merchandise=sum(p.unit_price * q for p, q in cart),
                           weight=sum(p.weight_grams * q for p, q in cart),
                           currency=cart[0][0].currency if cart else _shop_currency())
    return Response([{"id": q.code, "name": q.name, "price": q.price, "currency": q.currency,
                      "estimate_days": q.max_days, "estimate_days_min": q.min_days} for q in offered])


def _cart(skus, quantities):
    if len(skus) != len(quantities):
        raise exceptions.ValidationError({"quantity": ["Give one quantity for each sku, in the same order."]})
    if len(skus) > MAX_LINES:
        raise exceptions.ValidationError({"sku": [f"At most {MAX_LINES} SKUs."]})
    if len(set(skus)) != len(skus):
        raise exceptions.ValidationError({"sku": ["Each SKU once, with its total quantity."]})
    parsed = []
    for raw in quantities:
        if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_QUANTITY):
            raise exceptions.ValidationError({"quantity": [f"Each quantity is a whole number from 1 to {MAX_QUANTITY}."]})
        parsed.append(int(raw))
    products = Product.objects.filter(sku__in=skus, active=True).in_bulk(field_name="sku")
    unknown = [sku for sku in skus if sku not in products]
    if unknown:
        raise exceptions.ValidationError({"sku": [f"Unknown or unavailable SKU: {', '.join(unknown)}."]})
    if len({p.currency for p in products.values()}) > 1:
        raise exceptions.ValidationError({"sku": ["All SKUs must be in one currency."]})
    return [(products[sku], quantity) for sku, quantity in zip(skus, parsed)]


def _shop_currency():
    """An empty cart's currency: the catalog's (one currency per shop, as the checkout's rule
    of one currency per order makes it in practice)."""
    return Product.objects.filter(active=True).values_list("currency", flat=True).first() or "usd"
