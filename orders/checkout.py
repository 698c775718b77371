"""The checkout service: turn a validated checkout request into a pending order.

One transaction claims the idempotency key, reserves stock, writes the order, its
lines and its first event; the fulfillment task is enqueued only after that commits.
"""

import hashlib
import json
import logging

from django.db import transaction

from catalog import stock
from harbor import failpoints
from orders.models import IdempotencyKey, Order, OrderEvent, OrderLine, OrderStatus
from orders.tasks import fulfill_order

logger = logging.getLogger(__name__)


class IdempotencyKeyReused(Exception):
    """The key was already used for a different request body."""


def fingerprint(data):
    """A stable hash of a parsed request body (key order and spacing do not matter)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def enqueue_fulfillment(order_id):
    failpoints.hit("checkout.before_publish", order_id)  # committed, not yet published
    fulfill_order.delay(str(order_id))


def place_order(*, email, lines, payment_method, shipping_address, idempotency_key=None, request_hash=""):
    """Create a pending order. Returns (order, created).

    `lines` is a list of {"product": Product, "quantity": int} with distinct products.
    With an idempotency key already used for the same request, returns that order and
    created=False; for another request, raises IdempotencyKeyReused. Raises
    catalog.stock.InsufficientStock with nothing written when stock is short.
    """
    with transaction.atomic():
        claim = None
        if idempotency_key:
            # A concurrent request holding the same key makes this INSERT wait for its
            # transaction; afterwards we see its order, or claim the key if it rolled back.
            claim, claimed = IdempotencyKey.objects.get_or_create(
                key=idempotency_key, defaults={"request_hash": request_hash}
            )
            if not claimed:
                if claim.request_hash != request_hash:
                    raise IdempotencyKeyReused(idempotency_key)
                return claim.order, False

        stock.reserve({line["product"]: line["quantity"] for line in lines})
        order = Order.objects.create(
            email=email,
            shipping_address=shipping_address,
            payment_method=payment_method,
            # Prices come from the database, never from the client.
            total=sum(line["product"].unit_price * line["quantity"] for line in lines),
            currency=lines[0]["product"].currency,
        )
        OrderLine.objects.bulk_create(
            OrderLine(order=order, product=line["product"], sku=line["product"].sku,
                      quantity=line["quantity"], unit_price=line["product"].unit_price)
            for line in lines
        )
        OrderEvent.objects.create(order=order, to_status=OrderStatus.PENDING, message="Order placed.", actor="checkout")
        if claim is not None:
            claim.order = order
            claim.save(update_fields=["order"])
        # After commit, so the worker never sees an order that might still roll back.
        # robust=True: a broker outage is logged, not turned into a 500 for an order
        # that is already safely stored (reconciliation picks it up later).
        # (A closure, not functools.partial: Django logs a robust callback's __qualname__.)
        transaction.on_commit(lambda: enqueue_fulfillment(order.id), robust=True)
    logger.info("order %s placed: %s, %s %s", order.id, email, order.total, order.currency)
    return order, True
