"""The stock audit: recompute what `available` should be from the order lines and report
any drift. It never changes stock: a drift is a bug or a manual edit to investigate."""

import logging

from django.db.models import Sum

from catalog.models import Stock
from orders.models import HOLDING_STOCK, OrderLine

logger = logging.getLogger(__name__)


def stock_drift():
    """{sku: {"available", "expected", "drift"}} for every product whose stock is off."""
    drift = {}
    held = dict(OrderLine.objects.filter(order__status__in=HOLDING_STOCK).values("product_id")
                .annotate(n=Sum("quantity")).values_list("product_id", "n"))
    for stock in Stock.objects.select_related("product"):
        expected = stock.received - held.get(stock.product_id, 0)
        if stock.available != expected:
            drift[stock.product.sku] = {"available": stock.available, "expected": expected,
                                        "drift": stock.available - expected}
    for sku, row in drift.items():
        logger.error("stock audit: %s available=%s expected=%s (drift %+d)", sku, row["available"],
                     row["expected"], row["drift"])
    return drift
