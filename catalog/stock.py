"""Stock reservation: the one place where `Stock.available` changes.

Each change is a single conditional UPDATE (`... WHERE available >= qty`), so two
checkouts racing for the last unit cannot both win, and rows are touched in product-pk
order so that multi-line orders cannot deadlock one another.
"""

from django.db import transaction
from django.db.models import F

from catalog.models import Stock


class InsufficientStock(Exception):
    def __init__(self, skus):
        super().__init__(f"Insufficient stock for: {', '.join(skus)}")
        self.skus = list(skus)


def reserve(quantities):
    """Take `{product: quantity}` out of stock, all or nothing.

    Must run inside the caller's transaction: if any product is short, InsufficientStock
    is raised after trying all of them (so the error names every short SKU) and the
    caller's rollback undoes the units already taken.
    """
    assert transaction.get_connection().in_atomic_block, "reserve() needs the caller's transaction"
    short = []
    for product in sorted(quantities, key=lambda p: p.pk):
        qty = quantities[product]
        taken = Stock.objects.filter(product=product, available__gte=qty).update(available=F("available") - qty)
        if not taken:
            short.append(product.sku)
    if short:
        raise InsufficientStock(short)


def release(lines):
    """Put back the units of these order lines (payment failed, order canceled or refunded)."""
    with transaction.atomic():
        for line in sorted(lines, key=lambda line: line.product_id):
            Stock.objects.filter(product_id=line.product_id).update(available=F("available") + line.quantity)
