"""An order's stock: reserved at checkout (orders.checkout), put back at most once.

`Order.stock_released` records that the order's units went back on the shelf (payment failed,
canceled, or refunded before it shipped / with the goods returned). The conditional UPDATE
on it makes the release happen once however many paths reach it, and it is what the stock
audit counts: an order holds its units until they are released.
"""

import logging

from django.db import transaction
from django.db.models import Sum

from catalog import stock
from catalog.models import Stock
from orders.models import Order, OrderLine

logger = logging.getLogger(__name__)


def release_stock(order):
    """Put the order's units back, once. True if this call did it."""
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, stock_released=False).update(stock_released=True):
            return False
        stock.release(order.lines.all())
    return True


def stock_drift():
    """The stock audit: {sku: {"available", "expected", "drift"}} for every product whose
    `available` differs from received − units of orders whose stock was not released.
    It reports, never fixes: a drift is a bug or a manual edit to investigate."""
    held = dict(OrderLine.objects.filter(order__stock_released=False).values("product_id")
                .annotate(n=Sum("quantity")).values_list("product_id", "n"))
    drift = {}
    for row in Stock.objects.select_related("product"):
        expected = row.received - held.get(row.product_id, 0)
        if row.available != expected:
            drift[row.product.sku] = {"available": row.available, "expected": expected,
                                      "drift": row.available - expected}
    for sku, row in drift.items():
        logger.error("stock audit: %s available=%s expected=%s (drift %+d)", sku, row["available"],
                     row["expected"], row["drift"])
    return drift
