"""What a Stripe webhook event does. Each event is stored by its id (unique) and applied in
one transaction, so a redelivery changes nothing; orders move only through the same
conditional transitions the fulfillment task uses (orders.fulfillment.apply_payment,
payments.refund), so an event arriving late, twice, or racing the task repeats no effect
and never moves an order backwards.

    payment_intent.succeeded       pending → paid, then label + receipt fan-out
    payment_intent.payment_failed  pending → payment_failed (stock back, shopper told)
    charge.refunded                paid/fulfilled → refunded (refund made at Stripe directly)

Anything else, or an event about an unknown order or another PaymentIntent than the
order's saved one, is stored with an "ignored: …" outcome.
"""

import logging
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.fulfillment import apply_payment, fan_out
from orders.models import Order, OrderStatus
from payments import refund
from payments.charge import Result, record
from payments.models import Payment, WebhookEvent

logger = logging.getLogger(__name__)
UNSETTLED = (Payment.Status.PENDING, Payment.Status.REQUIRES_ACTION)


class Ignored(Exception):
    """The event is stored but changes nothing; the message says why."""


def is_well_formed(event):
    return (isinstance(event, dict) and isinstance(event.get("id"), str) and bool(event["id"])
            and isinstance(event.get("type"), str) and isinstance(event.get("data"), dict)
            and isinstance(event["data"].get("object"), dict))


def receive(event):
    """Store the event and apply it, in one transaction. Returns its outcome, or None if
    this event id was received before (a concurrent duplicate waits on the unique index)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = WebhookEvent.objects.create(stripe_id=event["id"], type=event["type"], payload=event)
        except IntegrityError:
            return None
        handler = HANDLERS.get(event["type"])
        try:
            if handler is None:
                raise Ignored(f"unhandled event type {event['type']}")
            outcome = handler(event["data"]["object"], actor=f"stripe webhook {event['id']}")
        except Ignored as why:
            outcome = f"ignored: {why}"
        record.outcome, record.processed_at = outcome, timezone.now()
        record.save(update_fields=["outcome", "processed_at"])
    logger.info("stripe event %s (%s): %s", event["id"], event["type"], outcome)
    return outcome


def payment_succeeded(intent, actor):
    order, payment = _order_of_intent(intent)
    message = f"Charged {intent.get('amount')} {intent.get('currency')} ({intent['id']})."
    outcome = _settle(order, payment, Result(Payment.Status.SUCCEEDED, message), actor)
    if order.status == OrderStatus.PAID:  # robust: after a broker outage, reconciliation fans out
        transaction.on_commit(lambda: fan_out(order.id), robust=True)
    return outcome


def payment_failed(intent, actor):
    order, payment = _order_of_intent(intent)
    error = intent.get("last_payment_error")
    message = (error.get("message") if isinstance(error, dict) else None) or f"Payment {intent['id']} failed."
    return _settle(order, payment, Result(Payment.Status.FAILED, message), actor)


def charge_refunded(charge, actor):
    intent_id = charge.get("payment_intent")
    if isinstance(intent_id, dict):  # expanded
        intent_id = intent_id.get("id")
    payment = Payment.objects.filter(payment_intent_id=intent_id).first() if isinstance(intent_id, str) else None
    if payment is None:
        raise Ignored("unknown order")
    if not charge.get("refunded"):
        raise Ignored(f"partial refund ({charge.get('amount_refunded')} of {charge.get('amount')})")
    order = Order.objects.select_for_update().get(pk=payment.order_id)
    try:
        if not refund.refunded_at_stripe(order.id, _refund_id(charge), actor=actor):
            raise Ignored("order is refunded")
    except refund.NotRefundable:
        raise Ignored(f"order is {order.status}") from None
    return f"order {order.status} → refunded"


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
    """Record the intent's outcome on the Payment and move the pending order on by it
    (`order` is refreshed to its new status)."""
    if order.status != OrderStatus.PENDING:
        raise Ignored(f"order is {order.status}")
    if payment.status not in (*UNSETTLED, result.status):
        raise Ignored(f"payment is {payment.status}")
    record(payment, result.status, result.message)
    apply_payment(order, result, actor=actor)
    order.refresh_from_db(fields=["status"])
    return f"order pending → {order.status}"


def _refund_id(charge):
    refunds = charge.get("refunds")
    data = refunds.get("data") if isinstance(refunds, dict) else None
    ids = [r.get("id") for r in data or () if isinstance(r, dict) and r.get("status") != "failed"]
    return next((i for i in ids if isinstance(i, str)), "")


HANDLERS = {
    "payment_intent.succeeded": payment_succeeded,
    "payment_intent.payment_failed": payment_failed,
    "charge.refunded": charge_refunded,
}
