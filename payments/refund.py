"""Refund an order exactly once: Stripe refund, restock, order → refunded, e-mail.

The Payment row is locked (SELECT ... FOR UPDATE) while the refund is created and its id
saved, so a concurrent duplicate waits and then finds it. A run that crashed after Stripe
refunded but before the commit is caught by asking Stripe for the intent's refunds first.
A refund made at Stripe directly (the charge.refunded webhook) is recorded the same way,
without creating another (`refunded_at_stripe`).
"""

import logging

from django.db import transaction
from django.utils import timezone

from catalog import stock
from harbor import enqueue
from orders.models import CHARGED, Order, OrderStatus
from orders.state import transition
from payments import gateway
from payments.models import Payment

logger = logging.getLogger(__name__)


class NotRefundable(Exception):
    pass


def refund(order_id, actor="refund_order"):
    """Returns True if this call refunded the order, False if it was refunded already."""
    with transaction.atomic():
        order, payment = _lock_refundable(order_id)
        if payment is None:
            return False
        if not payment.refund_id:
            existing = [r for r in gateway.refunds_for_intent(payment.payment_intent_id) if r.status != "failed"]
            created = existing[0] if existing else gateway.create_refund(order.id, payment.payment_intent_id)
            payment.refund_id = created.id
        _record(order, payment, actor)
    logger.info("order %s refunded (%s)", order_id, payment.refund_id)
    return True


def refunded_at_stripe(order_id, refund_id, actor):
    """Record a refund already made at Stripe outside Harbor (its dashboard; the
    charge.refunded webhook): the same effects as refund(), without another refund at
    Stripe. Returns True if this call recorded it, False if the order was refunded already."""
    with transaction.atomic():
        order, payment = _lock_refundable(order_id)
        if payment is None:
            return False
        payment.refund_id = payment.refund_id or refund_id or ""
        _record(order, payment, actor)
    logger.info("order %s refunded at Stripe (%s)", order_id, payment.refund_id)
    return True


def _lock_refundable(order_id):
    """The order and its Payment, both locked; (order, None) if the order is refunded already."""
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status == OrderStatus.REFUNDED:
        return order, None
    if order.status not in CHARGED:
        raise NotRefundable(f"order {order_id} is {order.status}; only paid or fulfilled orders are refunded")
    return order, Payment.objects.select_for_update().get(order=order)


def _record(order, payment, actor):
    """Payment → refunded, order → refunded, stock back, refund e-mail after commit."""
    payment.status, payment.refunded_at = Payment.Status.REFUNDED, timezone.now()
    payment.save(update_fields=["refund_id", "status", "refunded_at"])
    transition(order.id, order.status, OrderStatus.REFUNDED, actor=actor,
               message=f"Refunded {payment.amount} {payment.currency} ({payment.refund_id}).")
    stock.release(order.lines.all())
    enqueue.after_commit("notifications.tasks.send_refund", order.id)
