"""Fulfillment: what `fulfill_order` does with an order once it holds the order's lock.

pending --charge--> paid --label + receipt--> fulfilled
        \\-> payment_failed (stock released, shopper told)   \\-> needs_review (card needs 3-D Secure)

Each step is guarded by the order's status in PostgreSQL, so running it again, or
concurrently, repeats no effect: the charge is once per order (payments.charge), the
label and the receipt are once per order (unique rows), and the status moves once.
"""

import logging

from celery import group, signature
from django.conf import settings
from django.db import transaction
from django.db.models import F

from catalog import stock
from harbor import enqueue
from orders.models import UNFINISHED, Order, OrderStatus
from orders.shipping import ensure_shipment
from orders.state import transition
from payments.charge import charge
from payments.models import Payment

logger = logging.getLogger(__name__)
ACTOR = "fulfill_order"


def is_unfinished(order_id):
    return Order.objects.filter(pk=order_id, status__in=UNFINISHED).exists()


def count_attempt(order_id):
    """Count one more charging run (order still pending). False (and the order moved to
    needs_review) once the runs exceed the cap: a task that crashes its worker every time
    is redelivered every time (acks_late), and this is what ends that loop. Runs for a
    paid order only fan out and are not counted; reconciliation counts its own rounds."""
    Order.objects.filter(pk=order_id, status=OrderStatus.PENDING).update(attempts=F("attempts") + 1)
    order = Order.objects.get(pk=order_id)
    if order.status == OrderStatus.PENDING and order.attempts > settings.FULFILL_MAX_ATTEMPTS:
        give_up(order, f"fulfill_order started {order.attempts - 1} times without finishing; "
                       "stopped to avoid a crash loop. Check the worker logs, then retry.")
        return False
    return True


def give_up(order, why, actor=ACTOR):
    return transition(order.id, order.status, OrderStatus.NEEDS_REVIEW, message=why, actor=actor)


def fulfill(order_id):
    order = Order.objects.get(pk=order_id)
    if order.status == OrderStatus.PENDING:
        apply_payment(order, charge(order))
        order.refresh_from_db()
    if order.status == OrderStatus.PAID:
        fan_out(order.id)
    return order.status


def apply_payment(order, result, actor=ACTOR):
    """Move a pending order on by a payment's outcome (a charge here, or a Stripe webhook).
    Each move is conditional on `pending`, so its effects happen once whoever gets there first."""
    if result.status == Payment.Status.SUCCEEDED:
        with transaction.atomic():
            if transition(order.id, OrderStatus.PENDING, OrderStatus.PAID, message=result.message, actor=actor):
                ensure_shipment(order)  # the tracking number exists before label and receipt race
    elif result.status == Payment.Status.FAILED:
        with transaction.atomic():
            if transition(order.id, OrderStatus.PENDING, OrderStatus.PAYMENT_FAILED, message=result.message,
                          actor=actor):
                stock.release(order.lines.all())
                enqueue.after_commit("notifications.tasks.send_payment_failed", order.id)
    elif result.status == Payment.Status.REQUIRES_ACTION:
        transition(order.id, OrderStatus.PENDING, OrderStatus.NEEDS_REVIEW, message=result.message, actor=actor)


def fan_out(order_id):
    """Label and receipt in parallel. No chord: each task records its own effect and
    whichever finishes second completes the order (complete_if_done)."""
    order_id = str(order_id)
    group(signature("orders.tasks.create_label", args=[order_id]),
          signature("notifications.tasks.send_receipt", args=[order_id])).apply_async()


def missing_fan_out(order):
    """The fan-out tasks whose effect the order still lacks (its label, its receipt)."""
    missing = []
    if not (hasattr(order, "shipment") and order.shipment.label):
        missing.append("orders.tasks.create_label")
    if not order.notifications.filter(kind="receipt", sent_at__isnull=False).exists():
        missing.append("notifications.tasks.send_receipt")
    return missing


def complete_if_done(order_id, actor):
    """paid → fulfilled once both the label and the receipt exist. Called by each fan-out
    task after its own commit, so the later of the two always sees both effects."""
    if missing_fan_out(Order.objects.select_related("shipment").get(pk=order_id)):
        return False
    return transition(order_id, OrderStatus.PAID, OrderStatus.FULFILLED,
                      message="Label created and receipt sent.", actor=actor)
