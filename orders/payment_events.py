"""What a Stripe webhook event does to an order. The event is stored by its id (unique) and
applied in one transaction (orders/webhooks.py), so a redelivery changes nothing; orders
move only through the same conditional transitions the tasks use (orders.fulfillment,
orders.refunds), so an event arriving late, twice, or racing a task repeats no effect and
never moves an order backwards.

    payment_intent.succeeded       pending / requires_action → paid, then label + receipt;
                                   payment_failed / canceled → refunded in full automatically
                                   (charged after the order ended: orders/voiding.py)
    payment_intent.payment_failed  pending / requires_action → payment_failed (stock back, shopper told)
    charge.refunded                the refunds made at Stripe recorded, whole or partial
    refund.updated, refund.failed,
    charge.refund.updated          a refund's new status; one that failed sends the order to review

Anything else, or an event about an unknown order or another PaymentIntent than the
order's saved one, is stored with an "ignored: …" outcome.
"""

import logging
import uuid

import stripe
from django.db import transaction

from catalog.money import format_money
from harbor import enqueue
from orders import refunds
from orders.fulfillment import AWAITING_PAYMENT, apply_payment, fan_out
from orders.models import Order, OrderEvent, OrderStatus
from orders.refunds import ENDED_UNCHARGED, refund_late_charge
from payments import refunds as stripe_refunds
from payments.charge import Result, charged_late, record
from payments.models import Payment

logger = logging.getLogger(__name__)
UNSETTLED = (Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION)


class Ignored(Exception):
    """The event is stored but changes nothing; the message says why."""


def apply(event):
    """What the event did to its order, as a short outcome text."""
    handler = HANDLERS.get(event["type"])
    try:
        if handler is None:
            raise Ignored(f"unhandled event type {event['type']}")
        return handler(event["data"]["object"], actor=f"stripe webhook {event['id']}")
    except Ignored as why:
        return f"ignored: {why}"


def payment_succeeded(intent, actor):
    order, payment = _order_of_intent(intent)
    if order.status in ENDED_UNCHARGED or order.status == OrderStatus.NEEDS_REVIEW:
        return _charged_after_all(order, payment, intent, actor)
    message = f"Charged {_amount(intent)} ({intent['id']})."
    outcome = _settle(order, payment, Result(Payment.Status.SUCCEEDED, message), actor)
    if order.status == OrderStatus.PAID:  # robust: after a broker outage, reconciliation fans out
        transaction.on_commit(lambda: fan_out(order.id), robust=True)
    return outcome


def _charged_after_all(order, payment, intent, actor):
    """Stripe charged an order Harbor had ended without a charge (or sent to review): never
    ignored. An ended order's charge is refunded in full automatically (orders/voiding.py); an
    order in review keeps the charge on its record for ops to decide."""
    charged_late(payment, intent["id"], intent.get("amount") or payment.amount,
                 intent.get("currency") or payment.currency)
    if order.status == OrderStatus.NEEDS_REVIEW:
        OrderEvent.objects.create(order=order, actor=actor, message=(
            f"Stripe reports the payment succeeded: {_amount(intent)} charged ({intent['id']}). "
            "Retry (it then ships) or refund it."))
        return "order needs_review: charge recorded for ops"
    refund_late_charge(order.id, actor, f"Stripe reported {intent['id']} succeeded.")
    return f"order {order.status}: charged at Stripe after it ended; full refund requested"


def _amount(intent):
    amount, currency = intent.get("amount"), intent.get("currency")
    return format_money(amount, currency) if isinstance(amount, int) and isinstance(currency, str) else "?"


def payment_failed(intent, actor):
    order, payment = _order_of_intent(intent)
    error = intent.get("last_payment_error")
    message = (error.get("message") if isinstance(error, dict) else None) or f"Payment {intent['id']} failed."
    return _settle(order, payment, Result(Payment.Status.FAILED, message, declined=True), actor)


def charge_refunded(charge, actor):
    """Refunds made at Stripe (its dashboard, or Harbor's own): each recorded once; the order
    follows (refunded once all is back). Newer Stripe API versions leave the refund list out
    of the charge, so the refund_order task is also asked to look at Stripe itself."""
    payment = _payment_of(charge.get("payment_intent"))
    listed = charge.get("refunds")
    for found in (listed.get("data") if isinstance(listed, dict) else None) or ():
        if isinstance(found, dict) and isinstance(found.get("id"), str):
            stripe_refunds.record(payment, stripe.Refund.construct_from(found, None))
    return _follow(payment, actor)


def refund_updated(refund, actor):
    """A refund changed at Stripe, e.g. failed days later: the money did not go back."""
    if not isinstance(refund.get("id"), str):
        raise Ignored("not a refund")
    payment = _payment_of(refund.get("payment_intent"))
    stripe_refunds.record(payment, stripe.Refund.construct_from(refund, None))
    return _follow(payment, actor)


def _follow(payment, actor):
    before = Order.objects.values_list("status", flat=True).get(pk=payment.order_id)
    after = refunds.settle(payment.order_id, actor)
    enqueue.after_commit("orders.tasks.refund_order", payment.order_id, actor=actor)  # and ask Stripe itself
    return f"order {before} → {after}" if after != before else f"refunds recorded; order {after}"


def _payment_of(intent_id):
    """The charged Payment of this PaymentIntent (refunds only concern charged orders)."""
    if isinstance(intent_id, dict):  # expanded
        intent_id = intent_id.get("id")
    payment = Payment.objects.filter(payment_intent_id=intent_id).first() if isinstance(intent_id, str) else None
    if payment is None:
        raise Ignored("unknown order")
    if payment.status not in (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED):
        raise Ignored(f"order is {Order.objects.values_list('status', flat=True).get(pk=payment.order_id)}")
    return payment


def _order_of_intent(intent):
    """The order whose saved PaymentIntent this is, and its Payment, both rows locked."""
    metadata = intent.get("metadata")
    order_id = metadata.get("order_id") if isinstance(metadata, dict) else None
    try:
        order_id = uuid.UUID(str(order_id))
    except ValueError:
        raise Ignored("unknown order") from None
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise Ignored("unknown order")
    payment = Payment.objects.select_for_update().filter(order=order).first()  # after the order, as refunds do
    if payment is None or not intent.get("id") or payment.payment_intent_id != intent["id"]:
        raise Ignored(f"{intent.get('id')} is not the order's payment intent")
    return order, payment


def _settle(order, payment, result, actor):
    """Record the intent's outcome on the Payment and move the order awaiting payment on by
    it (`order` is refreshed to its new status)."""
    if order.status not in AWAITING_PAYMENT:
        raise Ignored(f"order is {order.status}")
    if payment.status not in (*UNSETTLED, result.status):
        raise Ignored(f"payment is {payment.status}")
    record(payment, result.status, result.message)
    before = order.status
    apply_payment(order, result, actor=actor)
    order.refresh_from_db(fields=["status"])
    return f"order {before} → {order.status}"


HANDLERS = {
    "payment_intent.succeeded": payment_succeeded,
    "payment_intent.payment_failed": payment_failed,
    "charge.refunded": charge_refunded,
    "charge.refund.updated": refund_updated,
    "refund.updated": refund_updated,
    "refund.failed": refund_updated,
}
