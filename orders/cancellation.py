"""Canceling an order that has not been charged: no money may move afterwards.

Run by the `orders.tasks.cancel_order` task under the order's lock, because it may call
Stripe, and no network call happens while a row is locked:

1. If a PaymentIntent exists, cancel it at Stripe first (payments.charge.void). Once Stripe
   says `canceled` the intent can never charge. If Stripe says it `succeeded` after all
   (the shopper authenticated at the last moment), the order is paid, not canceled.
2. Then, in one short transaction with the order row locked, check that no intent has
   appeared meanwhile (payments.charge saves one only under the same row lock while the
   order is pending), move the order to `canceled`, put its stock back and queue the e-mail.
"""

import logging

from django.db import transaction

from discounts import vouchers
from harbor.retry import NotSettledYet
from orders import voiding
from orders.fulfillment import apply_payment
from orders.refunds import refund_late_charge
from orders.models import Order, OrderStatus
from orders.state import transition
from orders.stock import release_stock
from payments.charge import void
from payments.models import Payment

logger = logging.getLogger(__name__)

# An order in one of these may be canceled as long as no charge succeeded.
CANCELABLE = (OrderStatus.PENDING, OrderStatus.REQUIRES_ACTION, OrderStatus.NEEDS_REVIEW)


class AlreadyCharged(Exception):
    """Stripe took the money: refund the order instead."""


class IntentAppeared(NotSettledYet):
    """A charge run saved an intent after we looked: the task retries and looks again."""


def cancel(order_id, *, reason, actor):
    """Cancel the order unless it was charged. Returns the order's status afterwards."""
    order = Order.objects.get(pk=order_id)
    if order.status not in CANCELABLE:
        return order.status
    payment = Payment.objects.filter(order=order).first()
    if payment is not None and payment.status == Payment.Status.SUCCEEDED:
        raise AlreadyCharged(f"order {order_id} was charged; refund it instead")
    if payment is not None and payment.payment_intent_id:
        result = void(payment)
        if result.late:  # recorded failed, charged after all: the order must not keep it
            if order.status != OrderStatus.NEEDS_REVIEW:
                refund_late_charge(order_id, actor, "The payment went through at Stripe after it was recorded failed.")
            return Order.objects.values_list("status", flat=True).get(pk=order_id)
        if result.status == Payment.Status.SUCCEEDED:
            # Charged after all: a pending or 3-D Secure order goes on to ship; one in
            # review stays there for ops, who now see the charge and can refund it.
            if order.status != OrderStatus.NEEDS_REVIEW:
                apply_payment(order, result, actor=actor)
            return Order.objects.values_list("status", flat=True).get(pk=order_id)
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order_id)
        if locked.status not in CANCELABLE:
            return locked.status
        if Payment.objects.filter(order=locked, payment_intent_id__isnull=False).exclude(
                status=Payment.Status.FAILED).exists():
            raise IntentAppeared(f"order {order_id}: a payment intent appeared while canceling")
        transition(locked.id, locked.status, OrderStatus.CANCELED, message=reason, actor=actor)
        release_stock(locked)
        vouchers.give_back(locked.id)  # its discount code's use counts no more
        voiding.void_later(locked.id)
    logger.info("order %s canceled by %s: %s", order_id, actor, reason)
    return OrderStatus.CANCELED
