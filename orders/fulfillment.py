"""Fulfillment: what `fulfill_order` does with an order once it holds the order's lock.

pending --charge--> paid --label + receipt--> fulfilled
   |  \\-> payment_failed (stock released, shopper told)
   \\-> requires_action (3-D Secure: the shopper authenticates on the order page, then
                       fulfill_order looks at Stripe again: paid or payment_failed)

Each step is guarded by the order's status in PostgreSQL, so running it again, or
concurrently, repeats no effect: the charge is once per order (payments.charge), the
label and the receipt are once per order (unique rows), and the status moves once.
"""

import functools
import logging

from celery import group, signature
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from discounts import vouchers
from orders.models import CHARGED, UNFINISHED, Order, OrderStatus, Shipment
from orders.shipping import make_shipments
from orders import voiding
from orders.state import transition
from orders.stock import release_stock
from payments import card_testing
from payments.charge import charge
from payments.models import Payment

logger = logging.getLogger(__name__)
ACTOR = "fulfill_order"
AWAITING_PAYMENT = (OrderStatus.PENDING, OrderStatus.REQUIRES_ACTION)


def is_unfinished(order_id):
    return Order.objects.filter(pk=order_id, status__in=(*UNFINISHED, OrderStatus.REQUIRES_ACTION)).exists()


# --- The attempt cap ----------------------------------------------------------------------
# It ends a loop of a delivery that can never finish: a task that kills its worker every time
# is redelivered every time (acks_late + reject_on_worker_lost). What counts is a run that
# DIED (its worker was killed, or the hard time limit struck: begin_run finds the previous
# run's mark still set), hit the soft time limit, or failed with an unexpected error. A
# transient failure (Stripe answering 503, a database blip) does not count: it is what the
# retry budget and then reconciliation are for, so a Stripe outage is not a review queue.

def begin_run(order_id):
    """Mark a run as started (and count the previous one if it never ended); bump
    updated_at, so reconciliation leaves an order alone while a run is retrying it.
    Returns the order as the mark left it (the run goes on with it: fulfill(order_id, order));
    None, and the order moved to needs_review, once the cap is passed."""
    Order.objects.filter(pk=order_id, status__in=AWAITING_PAYMENT).update(
        attempts=F("attempts") + Case(When(run_started_at__isnull=False, then=Value(1)), default=Value(0)),
        run_started_at=timezone.now(), updated_at=timezone.now())
    order = Order.objects.get(pk=order_id)
    if order.status in AWAITING_PAYMENT and order.attempts >= settings.FULFILL_MAX_ATTEMPTS:
        give_up(order, f"fulfill_order died, timed out or failed {order.attempts} times without finishing; "
                       "stopped to avoid a crash loop. Check the worker logs, then retry.")
        Order.objects.filter(pk=order_id).update(run_started_at=None)
        return None
    return order


def end_run(order_id, error=None):
    """The run is over: a clean end, or a transient error (retried, not counted), or an
    unexpected error or soft time limit (counted)."""
    counted = error is not None and (isinstance(error, SoftTimeLimitExceeded) or not _transient(error))
    Order.objects.filter(pk=order_id).update(run_started_at=None,
                                             attempts=F("attempts") + (1 if counted else 0))


def _transient(error):
    from orders.tasks import fulfill_order  # its autoretry_for is the list of transient errors

    return isinstance(error, fulfill_order.autoretry_for)


def give_up(order, why, actor=ACTOR):
    return transition(order.id, order.status, OrderStatus.NEEDS_REVIEW, message=why, actor=actor)


# --- The run --------------------------------------------------------------------------------

def fulfill(order_id, order=None):
    """Charge the order if it awaits payment, then fan out if it is paid. `order`: as
    begin_run just read it (the task holds the order's lock), so it is not read again."""
    order = order or Order.objects.get(pk=order_id)
    if order.status in AWAITING_PAYMENT:
        made = apply_payment(order, charge(order, may_save_intent=lambda: _still_pending(order.pk)))
        if made:
            # This run moved the order to paid and made its shipments: fan out to those,
            # without reading back what it just wrote (each label task checks the order is charged).
            fan_out(order.id, [shipment.pk for shipment in made])
            return OrderStatus.PAID
        order.refresh_from_db(fields=["status"])  # another run, or a webhook, may have moved it
    if order.status == OrderStatus.PAID:
        fan_out(order.id)
    return order.status


def _still_pending(order_id):
    """Run by payments.charge in the transaction that saves a PaymentIntent id: the order
    row is locked, as orders.operations.cancel locks it, so the two never both succeed."""
    return Order.objects.select_for_update().filter(pk=order_id, status=OrderStatus.PENDING).exists()


def apply_payment(order, result, actor=ACTOR):
    """Move an order awaiting payment on by the payment's outcome (a charge here, or a Stripe
    webhook). Each move is conditional on the order still awaiting payment, so its effects
    happen once whoever gets there first. Returns the shipments made if this call moved the
    order to paid (else None)."""
    if result.status == Payment.Status.SUCCEEDED:
        with transaction.atomic():
            if _advance(order, OrderStatus.PAID, result.message, actor):
                # One per warehouse, with tracking numbers, before the labels and the receipt
                # race. The move just won, so the order had none (it was awaiting payment).
                return make_shipments(order)
    elif result.status == Payment.Status.FAILED:
        with transaction.atomic():
            if _advance(order, OrderStatus.PAYMENT_FAILED, result.message, actor):
                release_stock(order)
                vouchers.give_back(order.id)  # its discount code's use counts no more
                voiding.void_later(order.id)  # a failure Stripe reported by webhook: its intent is still open
                if result.declined:
                    _count_decline(order)
    elif result.status == Payment.Status.REQUIRES_ACTION:
        transition(order.id, OrderStatus.PENDING, OrderStatus.REQUIRES_ACTION, message=result.message, actor=actor)
    elif result.review:
        _advance(order, OrderStatus.NEEDS_REVIEW, result.message, actor)


def _count_decline(order):
    """Card testing (payments/card_testing.py): the decline counts for the client that placed
    the order and for the card, once (this runs only for the call that moved the order)."""
    payment_id, fingerprint = Payment.objects.values_list("pk", "card_fingerprint").get(order=order)
    client = Order.objects.values_list("client", flat=True).get(pk=order.pk)
    transaction.on_commit(lambda: card_testing.record_decline(payment_id, client, fingerprint), robust=True)


def _advance(order, to_status, message, actor):
    """One conditional move from whichever awaiting-payment status the order is in."""
    return any(transition(order.id, from_status, to_status, message=message, actor=actor)
               for from_status in AWAITING_PAYMENT)


def ensure_shipments_of(order_id):
    """The shipments of a charged order (a paid order always has them; this covers one paid
    before the move that makes them, e.g. by an older release still in the queue)."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order_id)
        if order.status in CHARGED and not order.shipments.exists():
            make_shipments(order)


def fan_out(order_id, shipments=None):
    """A label per shipment (`shipments`, ids; by default the order's), in parallel; the receipt
    goes out in parallel too, sent by notifications/ on the order.paid event (orders/outbox.py).
    No chord: each task records its own effect and whichever finishes last completes the order
    (complete_if_done)."""
    order_id = str(order_id)
    if shipments is None:
        shipments = Shipment.objects.filter(order_id=order_id).values_list("pk", flat=True)
    group(*[signature("orders.tasks.create_label", args=[order_id, shipment]) for shipment in shipments]).apply_async()


RECEIPT = "receipt"  # in missing_fan_out: the receipt, which the order.paid event asks for


def missing_fan_out(order):
    """The fan-out effects the order still lacks, as (task, keyword arguments): a label per
    shipment that has none (all of them: the task makes them if there are none), and the
    receipt (RECEIPT: its e-mail is notifications' answer to the order.paid event)."""
    missing = []
    shipments = list(order.shipments.all())
    if not shipments:
        missing.append(("orders.tasks.create_label", {}))  # it makes them first (ensure_shipments_of)
    missing += [("orders.tasks.create_label", {"shipment_id": shipment.pk}) for shipment in shipments
                if not shipment.label]
    # A receipt the mail server refused for good (no such mailbox) is as done as it will get:
    # the goods still ship, and the admin shows the refusal.
    if not order.notifications.filter(Q(sent_at__isnull=False) | Q(failed_at__isnull=False), kind="receipt").exists():
        missing.append((RECEIPT, {}))
    return missing


def fan_out_done(order_id):
    """missing_fan_out(order) is empty: the order has its shipments, each with its label, and
    its receipt was sent (or refused for good). Each fan-out task asks after its own commit,
    so this is on every order's path twice: one statement, written out, because building the
    same three EXISTS with the ORM cost more CPU than PostgreSQL spends answering them."""
    with connection.cursor() as cursor:
        cursor.execute(_fan_out_done_sql(), [order_id] * 3)
        return cursor.fetchone()[0]


@functools.cache
def _fan_out_done_sql():
    shipment = Shipment._meta
    receipt = Order.notifications.rel.related_model._meta  # notifications/ sits above orders/: by its relation
    ship_order, label = shipment.get_field("order").column, shipment.get_field("label").column
    return (f"SELECT EXISTS (SELECT 1 FROM {shipment.db_table} WHERE {ship_order} = %s)"
            f" AND NOT EXISTS (SELECT 1 FROM {shipment.db_table} WHERE {ship_order} = %s"
            f" AND ({label} = '' OR {label} IS NULL))"
            f" AND EXISTS (SELECT 1 FROM {receipt.db_table} WHERE {receipt.get_field('order').column} = %s"
            f" AND kind = '{RECEIPT}' AND (sent_at IS NOT NULL OR failed_at IS NOT NULL))")


def complete_if_done(order_id, actor):
    """paid → fulfilled once every shipment has its label and the receipt went out. Called by
    each fan-out task after its own commit, so the last of them always sees every effect."""
    if not fan_out_done(order_id):
        return False
    return transition(order_id, OrderStatus.PAID, OrderStatus.FULFILLED,
                      message="Labels created and receipt sent.", actor=actor)
