"""An order's stock: taken at checkout from the warehouses that ship to its address
(orders.checkout, inventory.stock.take), put back at most once, into the warehouses it came from.

`Order.stock_released` records that the order's units went back on the shelves (payment failed,
canceled, or refunded before it shipped / with the goods returned). The conditional UPDATE
on it makes the release happen once however many paths reach it, and it is what the stock
audit counts: an order holds its units, per warehouse, until they are released.
"""

import logging

from django.db import connection, transaction

from inventory import stock
from orders.models import Order

logger = logging.getLogger(__name__)


def release_stock(order):
    """Put the order's units back into their warehouses, once. True if this call did it."""
    with transaction.atomic():
        if not Order.objects.filter(pk=order.pk, stock_released=False).update(stock_released=True):
            return False
        stock.release(order.pk)
    return True


def return_units(order, product_id, quantity):
    """Returned goods back on the shelf of the warehouses that sent them: {warehouse_id: units}.
    Nothing when the order's stock was released already (all it held went back then). Call it
    in the transaction that records the return received, holding the order's row lock."""
    if Order.objects.filter(pk=order.pk, stock_released=True).exists():
        return {}
    return stock.put_back(order.pk, product_id, quantity)


DRIFT = """
SELECT p.sku, w.code, s.available, s.received - coalesce(held.units, 0) AS expected
FROM inventory_stock s
JOIN catalog_product p ON p.id = s.product_id
JOIN inventory_warehouse w ON w.id = s.warehouse_id
LEFT JOIN (
    SELECT a.product_id, a.warehouse_id, sum(a.quantity - a.returned) AS units
    FROM inventory_allocation a JOIN orders_order o ON o.id = a.order_id
    WHERE NOT o.stock_released
    GROUP BY a.product_id, a.warehouse_id
) held ON held.product_id = s.product_id AND held.warehouse_id = s.warehouse_id
WHERE s.available <> s.received - coalesce(held.units, 0)
ORDER BY p.sku, w.code
"""


def stock_drift():
    """The stock audit, per warehouse: {"SKU@warehouse": {"available", "expected", "drift"}} for
    every stock row whose `available` differs from received − the units that orders whose
    stock was not released hold there (less what came back). It reports, never fixes: a drift
    is a bug or a manual edit to investigate."""
    with connection.cursor() as cursor:
        cursor.execute(DRIFT)
        rows = cursor.fetchall()
    drift = {f"{sku}@{warehouse}": {"available": available, "expected": expected, "drift": available - expected}
             for sku, warehouse, available, expected in rows}
    for key, row in drift.items():
        logger.error("stock audit: %s available=%s expected=%s (drift %+d)", key, row["available"],
                     row["expected"], row["drift"])
    return drift
