"""What ops staff (admin actions) and developers (manage.py) may do to an order.

Each operation writes an OrderEvent naming who did it, and refuses (OperationRefused,
nothing written) when the order is not in a state it applies to.
"""

import logging

from django.db import transaction

from discounts import vouchers
from harbor import enqueue
from orders import refunds, voiding
from orders.cancellation import CANCELABLE
from orders.models import UNFINISHED, Order, OrderEvent, OrderStatus
from orders.state import transition
from orders.stock import release_stock
from payments.models import Payment

logger = logging.getLogger(__name__)


class OperationRefused(Exception):
    pass


def _note(order, message, actor):
    OrderEvent.objects.create(order=order, message=message, actor=actor)


@transaction.atomic
def retry_fulfillment(order, actor):
    """Send fulfill_order again (it is safe to repeat) for a pending, requires_action or paid order."""
    if order.status not in (*UNFINISHED, OrderStatus.REQUIRES_ACTION):
        raise OperationRefused(f"only pending, requires_action or paid orders are fulfilled; "
                               f"this one is {order.status}")
    _note(order, "Fulfillment re-enqueued.", actor)
    enqueue.after_commit("orders.tasks.fulfill_order", order.id)


@transaction.atomic
def cancel(order, actor, reason="Canceled by staff."):
    """Cancel an order that was not charged; its stock goes back and the shopper is told.

    Without a PaymentIntent it happens here: the order row is locked, and payments.charge
    saves an intent only under the same lock while the order is pending, so no intent can
    be confirmed afterwards. With one, the intent must be canceled at Stripe first, which the
    cancel_order task does outside any transaction (orders/cancellation.py). Returns what
    happened, for the admin's message.
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status not in CANCELABLE:
        raise OperationRefused(f"only pending, requires_action or needs_review orders can be canceled; "
                               f"this one is {locked.status}")
    payment = Payment.objects.filter(order=locked).first()
    if payment is not None and payment.status == Payment.Status.SUCCEEDED:
        raise OperationRefused("it was charged: refund it instead")
    if payment is None or not payment.payment_intent_id or payment.status == Payment.Status.FAILED:
        transition(locked.id, locked.status, OrderStatus.CANCELED, message=reason, actor=actor)
        release_stock(locked)
        vouchers.give_back(locked.id)  # its discount code's use counts no more
        voiding.void_later(locked.id)  # a failed payment's intent, if Stripe has not canceled it yet
        return "canceled, stock released"
    _note(locked, "Cancel requested: canceling the payment at Stripe first.", actor)
    enqueue.after_commit("orders.tasks.cancel_order", locked.id, actor=actor, reason=reason)
    return "cancel queued (the payment is canceled at Stripe first)"


def request_refund(order, actor, amount=None, reason="", restock=False):
    """Ask for a refund of a charged order: all that is left, or `amount` minor units
    (orders/refunds.py; the refund_order task makes it at Stripe)."""
    try:
        refund = refunds.request(order, actor, amount=amount, reason=reason, restock=restock)
    except refunds.NotRefundable as exc:
        raise OperationRefused(str(exc)) from None
    return "refund queued" if refund.amount is None else "partial refund queued"


@transaction.atomic
def mark_reviewed(order, actor):
    """Retry a needs_review order from scratch, with a fresh attempt budget, when its cause
    was transient or is fixed (a crash loop, Stripe refusing our key): to paid if the charge
    went through (fulfill_order then fans out label and receipt), else to pending
    (fulfill_order then looks at Stripe again and carries on from there). Refused when
    there is nothing to retry: a declined card (cancel instead) or money already refunded."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != OrderStatus.NEEDS_REVIEW:
        raise OperationRefused(f"only orders in needs_review can be retried; this one is {locked.status}")
    payment = Payment.objects.filter(order=locked).first()
    if payment is not None and payment.status == Payment.Status.FAILED:
        raise OperationRefused("its payment failed: cancel it instead")
    if payment is not None and payment.amount_refunded:
        raise OperationRefused("money was refunded: refund the rest or settle it with the shopper")
    charged = payment is not None and payment.status == Payment.Status.SUCCEEDED
    to_status = OrderStatus.PAID if charged else OrderStatus.PENDING
    transition(locked.id, OrderStatus.NEEDS_REVIEW, to_status, message="Retried by staff.", actor=actor)
    Order.objects.filter(pk=locked.pk).update(attempts=0, run_started_at=None)
    enqueue.after_commit("orders.tasks.fulfill_order", locked.id)
    return f"sent back to {to_status}, fulfillment re-enqueued"
