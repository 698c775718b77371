"""Stock in warehouses: the one place where `Stock.available` changes.

Taking an order's stock is one statement for all its lines (the checkout's round trip):

1. the stock rows of the wanted products in the warehouses that ship to the address are locked,
   in (product, warehouse) order, so concurrent checkouts never deadlock one another;
2. each line is allocated by the strategy below, from what the locked rows hold now;
3. each row is taken down only `WHERE available >= n` (two checkouts racing for the last unit
   cannot both win, and the CHECK constraint refuses a negative count anyway), and an
   Allocation row records what the order took from where.

The allocation strategy, per line: if a warehouse holds the whole line, the line comes from one
warehouse: the first by priority (lower first), then the one with the most stock. If none holds
it all, the line is split across warehouses in that same order, each giving what it has until
the line is whole. A line that cannot be made whole is short, and the caller's rollback undoes
everything the statement did.

Every change bumps the catalog's cache version once the transaction commits.
"""

from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog import cache
from catalog.models import Product
from harbor.db import prepared_cursor


class InsufficientStock(Exception):
    def __init__(self, skus):
        super().__init__(f"Insufficient stock for: {', '.join(skus)}")
        self.skus = list(skus)


TAKE = """
WITH wanted (sku, qty) AS (VALUES {values}),
products AS (
    SELECT p.id, p.sku, p.unit_price, p.currency, p.weight_grams, p.tax_class, w.qty
    FROM catalog_product p JOIN wanted w ON w.sku = p.sku
    WHERE p.active
),
candidates AS (
    SELECT s.id, s.product_id, s.warehouse_id, s.available, wh.priority, p.qty
    FROM inventory_stock s
    JOIN products p ON p.id = s.product_id
    JOIN inventory_warehouse wh ON wh.id = s.warehouse_id
    WHERE wh.active AND %s = ANY (wh.countries)
    ORDER BY s.product_id, s.warehouse_id
    FOR UPDATE OF s
),
ranked AS (
    SELECT c.*,
           bool_or(c.available >= c.qty) OVER (PARTITION BY c.product_id) AS one_holds_all,
           row_number() OVER (PARTITION BY c.product_id
                              ORDER BY c.available >= c.qty DESC, c.priority, c.available DESC, c.warehouse_id)
               AS holder_rank,
           coalesce(sum(c.available) OVER (PARTITION BY c.product_id
                                           ORDER BY c.priority, c.available DESC, c.warehouse_id
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
    FROM candidates c
),
chosen AS (
    SELECT id, CASE WHEN one_holds_all THEN CASE WHEN holder_rank = 1 THEN qty ELSE 0 END
                    ELSE greatest(0, least(available, qty - before)) END AS take
    FROM ranked
),
taken AS (
    UPDATE inventory_stock s SET available = s.available - ch.take, updated_at = %s
    FROM chosen ch
    WHERE s.id = ch.id AND ch.take > 0 AND s.available >= ch.take
    RETURNING s.product_id, s.warehouse_id, ch.take
),
allocated AS (
    INSERT INTO inventory_allocation (order_id, product_id, warehouse_id, quantity, returned)
    SELECT %s::uuid, product_id, warehouse_id, take, 0 FROM taken
    RETURNING product_id, warehouse_id, quantity
)
SELECT p.id, p.sku, p.unit_price, p.currency, p.weight_grams, p.tax_class, p.qty,
       coalesce((SELECT sum(a.quantity) FROM allocated a WHERE a.product_id = p.id), 0)
FROM products p
"""


def take(wanted, *, country, order_id):
    """Look up `{sku: quantity}` among the active products and take their stock for the order
    `order_id` from the warehouses that ship to `country`, in one round trip (the checkout's).
    Returns ({sku: Product}, [short SKUs]); unknown or inactive SKUs are simply missing from the
    first. A shortage raises nothing here: the caller raises, and its rollback undoes what was
    taken and allocated."""
    assert transaction.get_connection().in_atomic_block, "take() needs the caller's transaction"
    values = ", ".join(["(%s, %s::integer)"] * len(wanted))
    pairs = [value for sku, qty in wanted.items() for value in (sku, qty)]
    # Prepared on the server once per connection (harbor.db): planning this statement cost
    # twice what running it does.
    with prepared_cursor() as cursor:
        # Parameters in the order they appear: the VALUES list, the country, the time, the order.
        cursor.execute(TAKE.format(values=values), [*pairs, (country or "").upper(), timezone.now(), order_id])
        rows = cursor.fetchall()
    products = {sku: Product(id=pk, sku=sku, unit_price=price, currency=currency, weight_grams=weight,
                             tax_class=tax_class, active=True)
                for pk, sku, price, currency, weight, tax_class, _, _ in rows}
    short = sorted(sku for _, sku, _, _, _, _, qty, got in rows if got < qty)
    if rows and not short:
        cache.changed()
    return products, short


RELEASE = """
SELECT s.id FROM inventory_stock s JOIN inventory_allocation a
    ON a.product_id = s.product_id AND a.warehouse_id = s.warehouse_id
WHERE a.order_id = %s ORDER BY s.product_id, s.warehouse_id FOR UPDATE OF s;
UPDATE inventory_stock s SET available = s.available + (a.quantity - a.returned), updated_at = %s
FROM inventory_allocation a
WHERE a.order_id = %s AND a.product_id = s.product_id AND a.warehouse_id = s.warehouse_id
"""


def release(order_id):
    """Put back into their warehouses the units the order took and did not get back already
    (payment failed, order canceled, refunded before it shipped). The caller makes it happen
    once (orders.stock.release_stock)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(RELEASE, [order_id, timezone.now(), order_id])  # rows locked in the take's order first
        cache.changed()


def put_back(order_id, product_id, quantity):
    """`quantity` units of the order's product came back: into the warehouses they were taken
    from, the order's first allocation (by priority) first, each at most what it sent and has
    not had back. Returns {warehouse_id: units}. The caller holds the order's row lock (so two
    returns of one order count one after the other) and makes it happen once
    (orders.stock.return_units)."""
    from inventory.models import Allocation, Stock

    with transaction.atomic():
        taken = list(Allocation.objects.filter(order_id=order_id, product_id=product_id)
                     .order_by("warehouse__priority", "warehouse_id"))
        back, left = {}, quantity
        for allocation in taken:
            units = min(left, allocation.quantity - allocation.returned)
            if units > 0:
                back[allocation.warehouse_id], left = units, left - units
        if left:
            raise ValueError(f"{quantity} units of product {product_id} back, but order {order_id} has "
                             f"{quantity - left} out")
        # The stock rows in the take's lock order (product, warehouse): no deadlock with checkout.
        list(Stock.objects.select_for_update().filter(product_id=product_id, warehouse_id__in=back)
             .order_by("product_id", "warehouse_id").values_list("pk"))
        now = timezone.now()
        for warehouse_id, units in back.items():
            Allocation.objects.filter(order_id=order_id, product_id=product_id, warehouse_id=warehouse_id).update(
                returned=F("returned") + units)
            Stock.objects.filter(product_id=product_id, warehouse_id=warehouse_id).update(
                available=F("available") + units, updated_at=now)
        cache.changed()
    return back
