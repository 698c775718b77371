"""Refunding an order, whole or in part, and keeping the order in line with Stripe.

1. `request()` (staff in the admin, `manage.py refund_order`): one short transaction checks
   the order was charged and the amount fits what is left, writes a Refund row `requested`
   and queues the refund_order task.
2. `carry_out()` (the task, under the order's lock, outside any transaction): asks Stripe for
   the intent's refunds first and adopts any it does not know (payments.refunds.sync), then
   makes each requested refund at Stripe (the amount asked, or what is left there). A request
   tried REFUND_MAX_ATTEMPTS times is given up.
3. `settle()` (the task, and Stripe's webhooks): one short transaction brings the order in line
   with its refunds: an event per refund, `refunded` once Stripe says the whole amount is back
   (succeeded, not pending: a pending refund can still fail) (stock released if nothing
   shipped, or if staff said the goods came back; the shopper e-mailed), `needs_review` when
   a refund failed.

A request reserves its amount at once: two requests can never ask for more than is left, even
before the first is made at Stripe. `refund_late_charge()` asks for a full refund of a charge
that Stripe made after the order had ended without one (orders/voiding.py).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.money import format_money
from harbor import enqueue
from orders.models import CHARGED, Order, OrderEvent, OrderStatus
from orders.state import transition
from orders.stock import release_stock
from payments import refunds as stripe_refunds
from payments.models import Payment, Refund

logger = logging.getLogger(__name__)
REFUNDABLE = (*CHARGED, OrderStatus.NEEDS_REVIEW)
# An order that ended without a charge, charged at Stripe all the same: refunded automatically.
ENDED_UNCHARGED = (OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELED)


class NotRefundable(Exception):
    pass


@transaction.atomic
def request(order, actor, amount=None, reason="", restock=False):
    """Ask for a refund of `amount` minor units (None: all that is left). Returns the Refund."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    payment = Payment.objects.filter(order=locked).first()
    if locked.status not in REFUNDABLE or payment is None or payment.status not in (
            Payment.Status.SUCCEEDED, Payment.Status.REFUNDED):
        raise NotRefundable(f"only charged orders can be refunded; this one is {locked.status}")
    if payment.refunds.filter(status=Refund.Status.REQUESTED, amount__isnull=True).exists():
        raise NotRefundable("a refund of everything left is already on its way")
    # The order row is locked: concurrent requests count one after the other, each seeing what
    # the others reserved (made or not yet made at Stripe).
    left = payment.amount - stripe_refunds.reserved_total(payment)
    if left <= 0:
        raise NotRefundable("nothing is left to refund")
    if amount is not None and not 0 < amount <= left:
        raise NotRefundable(f"the amount must be more than zero and at most {format_money(left, payment.currency)}")
    refund = Refund.objects.create(payment=payment, amount=amount, reason=reason, restock=restock,
                                   requested_by=actor)
    what = format_money(amount, payment.currency) if amount else "everything left"
    OrderEvent.objects.create(order=locked, actor=actor,
                              message=f"Refund of {what} requested{': ' + reason if reason else ''}.")
    enqueue.after_commit("orders.tasks.refund_order", locked.id, actor=actor)
    return refund


def carry_out(order_id, actor="refund_order"):
    """Make the order's requested refunds at Stripe, then settle the order. Safe to repeat."""
    payment = Payment.objects.filter(order_id=order_id).first()
    if payment is None or not payment.payment_intent_id:
        return "nothing to refund"
    stripe_refunds.sync(payment)
    for waiting in payment.refunds.filter(status=Refund.Status.REQUESTED).order_by("pk"):
        if waiting.attempts >= settings.REFUND_MAX_ATTEMPTS:
            stripe_refunds.fail(waiting, f"Given up after {waiting.attempts} attempts at Stripe.")
        else:
            stripe_refunds.make(waiting, order_id)
    return settle(order_id, actor)


def settle(order_id, actor):
    """Bring the order in line with its refunds (each change applied once). Returns its status."""
    with transaction.atomic():
        order = Order.objects.select_for_update(of=("self",)).get(pk=order_id)
        payment = Payment.objects.select_for_update().get(order=order)
        # The refunded total and the events that explain it commit together: whoever sees the
        # new amount (the admin, a test) also sees why.
        stripe_refunds.recompute(payment)
        changed = list(payment.refunds.select_for_update().exclude(status=Refund.Status.REQUESTED)
                       .exclude(applied=F("status")))
        for refund in changed:
            _apply(order, payment, refund, actor)
        order.refresh_from_db(fields=["status"])
        if order.status in (*REFUNDABLE, *ENDED_UNCHARGED) and stripe_refunds.succeeded_total(payment) >= payment.amount:
            _refunded_in_full(order, payment, actor)
    return Order.objects.values_list("status", flat=True).get(pk=order_id)


def _apply(order, payment, refund, actor):
    amount = format_money(refund.amount or 0, payment.currency)
    who = actor if refund.requested_by != "stripe" else "stripe"
    if refund.status == Refund.Status.PENDING and refund.applied != Refund.Status.PENDING:
        OrderEvent.objects.create(order=order, actor=who, message=(
            f"Refund of {amount} ({refund.stripe_id}) made at Stripe, pending"
            f"{': ' + refund.reason if refund.reason else ''}."))
    elif refund.status == Refund.Status.SUCCEEDED and refund.applied != Refund.Status.SUCCEEDED:
        total = format_money(stripe_refunds.succeeded_total(payment), payment.currency)
        OrderEvent.objects.create(order=order, actor=who, message=(
            f"Refunded {amount} ({refund.stripe_id}){': ' + refund.reason if refund.reason else ''}; "
            f"{total} of {format_money(payment.amount, payment.currency)} refunded so far."))
    elif refund.status == Refund.Status.FAILED:
        why = f"Refund of {amount} ({refund.stripe_id or 'not made'}) failed: {refund.last_error or 'at Stripe'}."
        if order.status in (*CHARGED, OrderStatus.REFUNDED, *ENDED_UNCHARGED):
            # The money did not go back: a person must look (retry the refund, or contact the shopper).
            transition(order.id, order.status, OrderStatus.NEEDS_REVIEW, message=why, actor=who)
            order.status = OrderStatus.NEEDS_REVIEW
            Payment.objects.filter(pk=payment.pk, status=Payment.Status.REFUNDED).update(
                status=Payment.Status.SUCCEEDED, refunded_at=None)
        else:
            OrderEvent.objects.create(order=order, actor=who, message=why)
    elif refund.status == Refund.Status.CANCELED:
        OrderEvent.objects.create(order=order, actor=who, message=f"Refund request closed: {refund.last_error}")
    Refund.objects.filter(pk=refund.pk).update(applied=refund.status)


def _refunded_in_full(order, payment, actor):
    """The whole amount is back: order → refunded; stock released unless the goods shipped
    and did not come back (or were released already); the shopper told."""
    total = format_money(stripe_refunds.succeeded_total(payment), payment.currency)
    if not transition(order.id, order.status, OrderStatus.REFUNDED, actor=actor, message=f"Refunded {total} in full."):
        return
    Payment.objects.filter(pk=payment.pk, status=Payment.Status.SUCCEEDED).update(
        status=Payment.Status.REFUNDED, refunded_at=timezone.now())
    shipped = order.shipments.exclude(label="").exists()
    if not shipped or payment.refunds.filter(restock=True).exists():
        release_stock(order)
    logger.info("order %s refunded in full (%s)", order.id, total)


def refund_late_charge(order_id, actor, why):
    """Stripe charged an order after it had ended without a charge (payment_failed, canceled):
    ask for a full refund, once (a webhook and the void task may both find the charge). Runs in
    the caller's transaction, or its own; the refund_order task makes it at Stripe after commit,
    then settle() ends the order `refunded` and the shopper is e-mailed. True if asked now."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        payment = Payment.objects.select_for_update().get(order=order)
        if payment.refunds.exclude(status__in=(Refund.Status.FAILED, Refund.Status.CANCELED)).exists():
            return False  # asked already
        Refund.objects.create(payment=payment, amount=None, reason=why, requested_by=actor)
        OrderEvent.objects.create(order=order, actor=actor, message=(
            f"Stripe charged {format_money(payment.amount, payment.currency)} after the order ended "
            f"({order.status}): {why} Refunding it in full automatically."))
        enqueue.after_commit("orders.tasks.refund_order", order.id, actor=actor)
    logger.error("order %s: charged at Stripe after it ended (%s); full refund requested", order_id, order.status)
    return True
