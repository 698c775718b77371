"""Stock reservation: the one place where `Stock.available` changes.

A reservation is one statement for all the order's lines: the rows are locked in
product-pk order (so multi-line orders cannot deadlock one another), then each is taken
down only `WHERE available >= qty` (so two checkouts racing for the last unit cannot both
win). A CHECK constraint makes a negative count impossible even for code that forgets to.
Every change bumps the catalog's cache version once the transaction commits.
"""

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from catalog import cache
from catalog.models import Product, Stock


class InsufficientStock(Exception):
    def __init__(self, skus):
        super().__init__(f"Insufficient stock for: {', '.join(skus)}")
        self.skus = list(skus)


RESERVE = """
WITH wanted (product_id, qty) AS (VALUES {values}),
locked AS (
    SELECT s.product_id FROM catalog_stock s JOIN wanted w ON w.product_id = s.product_id
    ORDER BY s.product_id FOR UPDATE OF s
)
UPDATE catalog_stock s SET available = s.available - w.qty, updated_at = %s
FROM wanted w
WHERE s.product_id = w.product_id AND s.product_id IN (SELECT product_id FROM locked) AND s.available >= w.qty
RETURNING s.product_id
"""


def reserve(quantities):
    """Take `{product: quantity}` out of stock, all or nothing, in one round trip.

    Must run inside the caller's transaction: if any product is short, InsufficientStock
    names every short SKU and the caller's rollback undoes the units already taken.
    """
    assert transaction.get_connection().in_atomic_block, "reserve() needs the caller's transaction"
    wanted = sorted(quantities.items(), key=lambda item: item[0].pk)
    values = ", ".join(["(%s::bigint, %s::integer)"] * len(wanted))
    params = [value for product, qty in wanted for value in (product.pk, qty)]
    with connection.cursor() as cursor:
        cursor.execute(RESERVE.format(values=values), [*params, timezone.now()])
        taken = {row[0] for row in cursor.fetchall()}
    short = [product.sku for product, _ in wanted if product.pk not in taken]
    if short:
        raise InsufficientStock(short)
    cache.changed()


TAKE = """
WITH wanted (sku, qty) AS (VALUES {values}),
products AS (
    SELECT p.id, p.sku, p.unit_price, p.currency, p.weight_grams, p.tax_class, w.qty
    FROM catalog_product p JOIN wanted w ON w.sku = p.sku
    WHERE p.active
),
locked AS (
    SELECT s.product_id FROM catalog_stock s JOIN products p ON p.id = s.product_id
    ORDER BY s.product_id FOR UPDATE OF s
),
taken AS (
    UPDATE catalog_stock s SET available = s.available - p.qty, updated_at = %s
    FROM products p
    WHERE s.product_id = p.id AND s.product_id IN (SELECT product_id FROM locked) AND s.available >= p.qty
    RETURNING s.product_id
)
SELECT p.id, p.sku, p.unit_price, p.currency, p.weight_grams, p.tax_class, p.id IN (SELECT product_id FROM taken)
FROM products p
"""


def take(wanted):
    """Look up `{sku: quantity}` among the active products and reserve their stock, in one
    round trip (the checkout's). Returns ({sku: Product}, [short SKUs]); unknown or inactive
    SKUs are simply missing from the first. Any shortage raises nothing here: the caller
    raises, and its rollback undoes what was taken (same locking order as reserve())."""
    assert transaction.get_connection().in_atomic_block, "take() needs the caller's transaction"
    values = ", ".join(["(%s, %s::integer)"] * len(wanted))
    params = [value for sku, qty in wanted.items() for value in (sku, qty)]
    with connection.cursor() as cursor:
        cursor.execute(TAKE.format(values=values), [*params, timezone.now()])
        rows = cursor.fetchall()
    products = {sku: Product(id=pk, sku=sku, unit_price=price, currency=currency, weight_grams=weight,
                             tax_class=tax_class, active=True)
                for pk, sku, price, currency, weight, tax_class, _ in rows}
    short = sorted(row[1] for row in rows if not row[-1])
    if rows and not short:
        cache.changed()
    return products, short


def release(lines):
    """Put back the units of these order lines (payment failed, order canceled or refunded)."""
    with transaction.atomic():
        for line in sorted(lines, key=lambda line: line.product_id):
            Stock.objects.filter(product_id=line.product_id).update(available=F("available") + line.quantity)
        cache.changed()
