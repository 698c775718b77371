"""The checkout service: turn a checkout request into a pending order, for the API and the
storefront alike.

One transaction, as few round trips as the guarantees allow:

1. claim the Idempotency-Key: one `INSERT … ON CONFLICT DO NOTHING` carrying the new order's
   id (the foreign key is checked at commit). A concurrent request with the same key waits
   on the unique index, then finds the key taken: same body → the stored order (a replay,
   looked up before the catalog, so it survives a product deactivated since), another body
   → IdempotencyKeyReused. A key older than IDEMPOTENCY_KEY_TTL is taken afresh.
2. with CHECKOUT_UNPAID_LIMIT, count the client's orders still awaiting payment (pending or
   requires_action): each one holds stock with no money moved, so one client could otherwise
   hold the whole catalog hostage. A transaction-scoped advisory lock per client makes two
   concurrent checkouts of one client count one after the other (other clients never wait);
3. look the SKUs up (prices always from the database) and take every line's stock from the
   warehouses that ship to the address, recording what came from where — one statement
   (inventory.stock.take: the allocation strategy is there);
4. redeem the discount code, if any (discounts.vouchers: its row locked after the stock rows,
   its use counted with a conditional UPDATE), and compute the totals (orders/totals.py:
   discount, shipping for the chosen or the cheapest method, tax);
5. write the order, its lines, its first event — three INSERTs in one round trip.

The fulfillment task is enqueued only after commit. The order comes back with its lines and
empty relations already in place, so the answer needs no read of what was just written.
"""

import hashlib
import json
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from inventory import stock
from discounts import vouchers
from harbor import enqueue, failpoints
from orders import outbox, totals
from shipping import rates
from harbor.logconfig import bind_order
from orders.models import UNPAID, IdempotencyKey, Order, OrderLine, OrderStatus

logger = logging.getLogger(__name__)


class IdempotencyKeyReused(Exception):
    """The key was already used for a different request body."""


class UnknownProducts(Exception):
    """A line names no active product, or the lines mix currencies (the message says which)."""


class InvalidShipping(Exception):
    """The shipping method does not deliver this cart to the address (the message says why)."""


class InvalidDiscount(Exception):
    """The discount code is unknown, expired, used up or does not apply (the message says why)."""


class TooManyUnpaid(Exception):
    """The client has CHECKOUT_UNPAID_LIMIT orders awaiting payment already."""

    retry_after = 30  # seconds: most unpaid orders are charged or failed well within that


def fingerprint(data):
    """A stable hash of a parsed request body (key order and spacing do not matter)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def order_for_key(idempotency_key):
    """The order placed with this Idempotency-Key, or None."""
    return Order.objects.filter(idempotency_key__key=idempotency_key).first()


def key_expiry():
    return timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)


def forget_expired_keys():
    """Nightly (Beat): drop Idempotency-Keys older than IDEMPOTENCY_KEY_TTL. Returns how many."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=key_expiry()).delete()
    return deleted


def enqueue_fulfillment(order_id):
    failpoints.hit("checkout.before_publish", order_id)  # committed, not yet published
    enqueue.send_or_log("orders.tasks.fulfill_order", order_id)


def place_order(*, email, lines, payment_method, shipping_address, idempotency_key=None, request_hash="",
                client="", shipping_method=None, discount_code=None, customer=None):
    """Create a pending order. Returns (order, created).

    `lines` is a list of {"sku": str, "quantity": int} (or {"product": Product, ...}) with
    distinct SKUs. `client` is harbor.clientip.client_id() of the request ("" when unknown:
    not limited). `shipping_method` is a method's code (None: the cheapest that serves the
    address), `discount_code` a voucher's code (None or "": none), `customer` the signed-in
    shopper's user (None: a guest). With an idempotency key
    already used for the same request, returns that order and created=False; for another
    request, raises IdempotencyKeyReused. Raises TooManyUnpaid, UnknownProducts,
    InvalidShipping, InvalidDiscount or inventory.stock.InsufficientStock, with nothing written.
    """
    order_id = uuid.uuid4()
    bind_order(order_id)  # this request's log lines, and the tasks it sends, name the order
    with transaction.atomic():
        if idempotency_key:
            earlier = _claim(idempotency_key, request_hash, order_id)
            if earlier is not None:
                bind_order(earlier.pk)
                return earlier, False
        if client and settings.CHECKOUT_UNPAID_LIMIT and _unpaid(client) >= settings.CHECKOUT_UNPAID_LIMIT:
            raise TooManyUnpaid(f"{settings.CHECKOUT_UNPAID_LIMIT} of this client's orders await payment")
        quantities = {line["product"].sku if "product" in line else line["sku"]: line["quantity"] for line in lines}
        products, short = stock.take(quantities, country=shipping_address["country"], order_id=order_id)
        unknown = [sku for sku in quantities if sku not in products]
        if unknown:
            raise UnknownProducts(f"Unknown or unavailable SKU: {', '.join(unknown)}.")
        if len({p.currency for p in products.values()}) > 1:
            raise UnknownProducts("All lines of one order must be in the same currency.")
        if short:
            raise stock.InsufficientStock(short)
        wanted = [totals.LineTotal(sku, products[sku].pk, quantity, products[sku].unit_price,
                                   products[sku].weight_grams, products[sku].tax_class)
                  for sku, quantity in quantities.items()]
        currency = products[wanted[0].sku].currency
        voucher = None
        if discount_code:
            try:
                voucher = vouchers.redeem(discount_code, email=email, currency=currency, lines=[
                    {"sku": line.sku, "product_id": line.product_id, "amount": line.amount} for line in wanted])
            except vouchers.VoucherRefused as exc:
                raise InvalidDiscount(str(exc)) from None
        try:
            figures = totals.compute(wanted, country=shipping_address["country"],
                                     region=shipping_address.get("region", ""), currency=currency,
                                     method_code=shipping_method, voucher=voucher)
        except rates.MethodUnavailable as exc:
            raise InvalidShipping(str(exc)) from None
        if voucher is not None:
            vouchers.record(voucher, order_id=order_id, email=email, amount=figures.discount, currency=currency)
        order, order_lines = _write(order_id, email, shipping_address, payment_method, client, figures, customer)
        # order.created for the webhooks, in this transaction (nothing is written or published
        # when no subscriber wants it: the checkout pays for the outbox only when it is used).
        outbox.emit("order.created", order.id, {"status": order.status, "total": order.total,
                                                "currency": order.currency})
        # After commit, so the worker never sees an order that might still roll back.
        # robust=True: a broker outage is logged, not turned into a 500 for an order
        # that is already safely stored (reconciliation picks it up later).
        # (A closure, not functools.partial: Django logs a robust callback's __qualname__.)
        transaction.on_commit(lambda: enqueue_fulfillment(order.id), robust=True)
    # What the answer shows is known: no payment, shipment or e-mail yet, and these lines.
    order._prefetched_objects_cache = {"lines": order_lines, "notifications": [], "shipments": []}
    order._state.fields_cache.update(payment=None)
    logger.info("order %s placed: %s, %s %s", order.id, email, order.total, order.currency)
    return order, True


UNPAID_COUNT = """
SELECT pg_advisory_xact_lock(hashtextextended('unpaid:' || %s, 0));
SELECT count(*) FROM orders_order WHERE client = %s AND status IN ({statuses})
"""


def _unpaid(client):
    """The client's orders awaiting payment, counted after taking the client's advisory lock
    (held until this transaction ends: a concurrent checkout of the same client counts after
    this one committed). Two statements, one round trip; the count is the second's."""
    with connection.cursor() as cursor:
        cursor.execute(UNPAID_COUNT.format(statuses=", ".join(["%s"] * len(UNPAID))), [client, client, *UNPAID])
        cursor.nextset()
        return cursor.fetchone()[0]


CLAIM = """
INSERT INTO orders_idempotencykey (key, request_hash, order_id, created_at) VALUES (%s, %s, %s, %s)
ON CONFLICT (key) DO NOTHING RETURNING key
"""


def _claim(key, request_hash, order_id):
    """Claim the key for the order about to be written: None if claimed now, else the
    order of the earlier request with the same body (IdempotencyKeyReused for another)."""
    with connection.cursor() as cursor:
        cursor.execute(CLAIM, [key, request_hash, order_id, timezone.now()])
        if cursor.fetchone():
            return None
    claim = IdempotencyKey.objects.select_related("order").get(key=key)
    if claim.created_at < key_expiry():  # forgotten: taken afresh for this order
        IdempotencyKey.objects.filter(key=key).update(request_hash=request_hash, order_id=order_id,
                                                      created_at=timezone.now())
        return None
    if claim.request_hash != request_hash:
        raise IdempotencyKeyReused(key)
    return claim.order


ORDER_COLUMNS = ("id", "status", "email", "shipping_address", "payment_method", "subtotal", "discount", "shipping",
                 "tax", "total", "currency", "prices_include_tax", "tax_label", "shipping_method",
                 "shipping_method_name", "shipping_min_days", "shipping_max_days", "discount_code", "attempts",
                 "stock_released", "client", "customer_id", "created_at", "updated_at")
LINE_COLUMNS = ("order_id", "product_id", "sku", "quantity", "unit_price", "discount", "tax", "tax_rate")
WRITE = f"""
INSERT INTO orders_order ({", ".join(ORDER_COLUMNS)}) VALUES ({", ".join(["%s"] * len(ORDER_COLUMNS))})
RETURNING number;
INSERT INTO orders_orderline ({", ".join(LINE_COLUMNS)}) VALUES {{lines}};
INSERT INTO orders_orderevent (order_id, from_status, to_status, message, actor, created_at)
VALUES (%s, '', %s, 'Order placed.', 'checkout', %s);
"""


def _write(order_id, email, shipping_address, payment_method, client, figures, customer=None):
    """The order, its lines and its first event: three INSERTs sent as one (psycopg's client-
    side cursor takes several statements at once), one round trip instead of three. Returns
    the Order (with the number the database gave it) and its OrderLines as the rows now hold them."""
    now = timezone.now()
    method = figures.method
    # Prices come from the database, never from the client; the totals from orders/totals.py.
    order = Order(id=order_id, status=OrderStatus.PENDING, email=email, shipping_address=shipping_address,
                  payment_method=payment_method, subtotal=figures.subtotal, discount=figures.discount,
                  shipping=figures.shipping, tax=figures.tax, total=figures.total, currency=figures.currency,
                  prices_include_tax=figures.prices_include_tax, tax_label=figures.tax_label,
                  shipping_method=method.code, shipping_method_name=method.name, shipping_min_days=method.min_days,
                  shipping_max_days=method.max_days, discount_code=figures.voucher.code if figures.voucher else "",
                  attempts=0, stock_released=False, client=client, customer=customer, created_at=now,
                  updated_at=now)
    order._state.adding = False
    order_lines = [OrderLine(order=order, product_id=line.product_id, sku=line.sku, quantity=line.quantity,
                             unit_price=line.unit_price, discount=line.discount, tax=line.tax, tax_rate=line.tax_rate)
                   for line in figures.lines]
    params = [getattr(order, column) if column != "shipping_address" else json.dumps(shipping_address)
              for column in ORDER_COLUMNS]
    for line in order_lines:
        params += [order.id if column == "order_id" else getattr(line, column) for column in LINE_COLUMNS]
    params += [order.id, order.status, now]
    with connection.cursor() as cursor:
        cursor.execute(WRITE.format(lines=", ".join(["(" + ", ".join(["%s"] * len(LINE_COLUMNS)) + ")"]
                                                    * len(order_lines))), params)
        order.number = cursor.fetchone()[0]  # the first statement's result: the sequence's number
    return order, order_lines
