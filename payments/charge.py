"""Charge an order exactly once, even when this runs twice, concurrently, or after a crash.

Steps, each persisted before the next one uses it, so a re-run resumes where Stripe is:
customer → PaymentMethod attached → PaymentIntent created (confirm=False) → its id saved
→ confirmed. Only the PaymentIntent whose id is saved on the order's single Payment row is
ever confirmed, and Stripe confirms a PaymentIntent at most once, so at most one charge
can succeed per order, even against a server that ignores idempotency keys.
"""

import logging
from dataclasses import dataclass

import stripe
from django.db import transaction
from django.db.models import F, Q

from harbor import failpoints
from harbor.retry import NotSettledYet
from orders.models import Order
from payments import gateway
from payments.models import Payment

logger = logging.getLogger(__name__)


@dataclass
class Result:
    status: str  # a Payment.Status
    message: str


def charge(order):
    """Take the order's total once. Returns a Result; raises on transient trouble."""
    payment, _ = Payment.objects.get_or_create(order=order, defaults={"amount": order.total, "currency": order.currency})
    Payment.objects.filter(pk=payment.pk).update(attempts=F("attempts") + 1)
    if payment.status != Payment.Status.PENDING:
        return Result(payment.status, payment.last_error or f"payment already {payment.status}")
    failpoints.hit("charge.before_stripe", order.id)
    try:
        if not payment.customer_id:
            payment = _save_once(payment, "customer_id", gateway.create_customer(order).id)
        if not payment.payment_method_id:
            attached = gateway.attach_payment_method(order, payment.customer_id)
            payment = _save_once(payment, "payment_method_id", attached.id)
        if not payment.payment_intent_id:
            intent = gateway.create_intent(order, payment)
            payment = _save_intent(order, payment, intent.id)
            if payment.payment_intent_id != intent.id:  # a concurrent run saved its intent first,
                _cancel_quietly(intent.id)  # or the order was canceled meanwhile
            if not payment.payment_intent_id:
                return record(payment, Payment.Status.FAILED, "The order was canceled before payment.")
        intent = _confirmed(order, payment.payment_intent_id)
        failpoints.hit("charge.after_confirm", order.id)  # charged at Stripe, nothing written yet
    except stripe.CardError as exc:  # declined while attaching the card
        return record(payment, Payment.Status.FAILED, _describe(exc))
    except (stripe.InvalidRequestError, stripe.AuthenticationError, stripe.PermissionError) as exc:
        # Not worth retrying: an unknown payment method, or our own configuration.
        status = Payment.Status.FAILED if isinstance(exc, stripe.InvalidRequestError) else Payment.Status.REQUIRES_ACTION
        return record(payment, status, _describe(exc))
    return _settle(payment, intent)


def _confirmed(order, intent_id):
    """Confirm the saved intent if nobody has yet; return it as Stripe now has it."""
    intent = gateway.retrieve_intent(intent_id)
    if intent.status == "requires_confirmation":
        failpoints.hit("charge.before_confirm", order.id)
        try:
            intent = gateway.confirm_intent(order.id, intent_id)
        except (stripe.CardError, stripe.InvalidRequestError) as exc:
            # Declined, or confirmed meanwhile by a concurrent run: Stripe's state decides.
            logger.info("order %s: confirm %s: %s", order.id, intent_id, exc)
            intent = gateway.retrieve_intent(intent_id)
    return intent


def _settle(payment, intent):
    if intent.status == "succeeded":
        return record(payment, Payment.Status.SUCCEEDED, f"Charged {intent.amount} {intent.currency} ({intent.id}).")
    if intent.status in ("requires_payment_method", "canceled"):
        error = intent.last_payment_error
        return record(payment, Payment.Status.FAILED, error.message if error else f"intent {intent.status}")
    if intent.status == "requires_action":
        return record(payment, Payment.Status.REQUIRES_ACTION,
                       "The card asks for authentication (3-D Secure), which off-session checkout cannot do.")
    raise NotSettledYet(f"payment intent {intent.id} is {intent.status}")


def record(payment, status, message):
    """Write a payment outcome on the Payment row; return it as a Result."""
    last_error = "" if status == Payment.Status.SUCCEEDED else message
    Payment.objects.filter(pk=payment.pk).update(status=status, last_error=last_error)
    return Result(status, message)


def _save_once(payment, field, value):
    """Set an empty field; if a concurrent run set it first, keep (and return) theirs."""
    Payment.objects.filter(Q(**{field: ""}) | Q(**{f"{field}__isnull": True}), pk=payment.pk).update(**{field: value})
    payment.refresh_from_db()
    return payment


def _save_intent(order, payment, intent_id):
    """Save the intent id only while the order is pending, under the order's row lock:
    orders.operations.cancel takes the same lock, so a canceled order never gets an
    intent confirmed, and an order with an intent is never canceled."""
    with transaction.atomic():
        if Order.objects.select_for_update().filter(pk=order.pk, status="pending").exists():
            return _save_once(payment, "payment_intent_id", intent_id)
    payment.refresh_from_db()
    return payment


def _cancel_quietly(intent_id):
    try:
        gateway.cancel_intent(intent_id)
    except stripe.StripeError as exc:  # an unconfirmed spare intent can never charge anyway
        logger.warning("could not cancel spare payment intent %s: %s", intent_id, exc)


def _describe(exc):
    return f"{exc.code or type(exc).__name__}: {exc.user_message or exc}"
