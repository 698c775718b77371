"""How many units of a product a shopper can buy right now: the one place the catalog's pages,
search and API read it.

Today that is the product's `Stock.available` (catalog/stock.py changes it). Stock is to move
to warehouses (several rows per product, summed): only this module then changes. Everything
that lists products asks for `with_available(queryset)` (an `available` annotation, in the
same query) and filters with `in_stock()`; code holding one product calls `units(product)`.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce

# A product without a stock row has none to sell.
AVAILABLE = Coalesce(F("stock__available"), Value(0))


def with_available(queryset):
    """The queryset with `available` (an int) on every product."""
    return queryset.annotate(available=AVAILABLE)


def in_stock():
    """A filter for products with at least one unit (on a `with_available` queryset)."""
    return Q(available__gt=0)


def units(product):
    """Units of this product available now (its `available` annotation when it has one)."""
    annotated = getattr(product, "available", None)
    if annotated is not None:
        return annotated
    try:
        return product.stock.available
    except ObjectDoesNotExist:  # no stock row yet
        return 0
