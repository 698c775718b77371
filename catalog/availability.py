"""How many units of a product a shopper can buy right now: the one place the catalog's pages,
search, cart and API read it.

Stock sits in warehouses (inventory/: one row per product per warehouse, changed only by
inventory/stock.py). What a shopper can buy is the sum over the active warehouses that ship to
their country, or over all active warehouses while no address is known. The catalog imports
nothing above it: it reads the stock rows by their reverse name (`stocks`). Everything that
lists products asks for `with_available(queryset)` (an `available` annotation, summed in the
same query) and filters with `in_stock()`; code holding one product calls `units(product)`.
"""

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce


def _shipping(country, prefix="stocks__"):
    where = Q(**{f"{prefix}warehouse__active": True})
    if country:
        where &= Q(**{f"{prefix}warehouse__countries__contains": [country.upper()]})
    return where


def with_available(queryset, country=None):
    """The queryset with `available` (an int) on every product."""
    return queryset.annotate(available=Coalesce(Sum("stocks__available", filter=_shipping(country)), 0))


def in_stock():
    """A filter for products with at least one unit (on a `with_available` queryset)."""
    return Q(available__gt=0)


def units(product, country=None):
    """Units of this product available now (its `available` annotation when it has one)."""
    annotated = getattr(product, "available", None)
    if annotated is not None and country is None:
        return annotated
    return product.stocks.filter(_shipping(country, prefix="")).aggregate(n=Sum("available"))["n"] or 0
