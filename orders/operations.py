"""What ops staff (admin actions) and developers (manage.py) may do to an order.

Each operation writes an OrderEvent naming who did it, and refuses (OperationRefused,
nothing written) when the order is not in a state it applies to.
"""

import logging

from django.db import transaction
from django.utils import timezone

from catalog import stock
from harbor import enqueue
from orders.models import CHARGED, UNFINISHED, Order, OrderEvent, OrderStatus
from orders.state import transition
from payments.models import Payment

logger = logging.getLogger(__name__)


class OperationRefused(Exception):
    pass


def _note(order, message, actor):
    OrderEvent.objects.create(order=order, message=message, actor=actor)


@transaction.atomic
def retry_fulfillment(order, actor):
    """Send fulfill_order again (it is safe to repeat) for a pending or paid order."""
    if order.status not in UNFINISHED:
        raise OperationRefused(f"only pending or paid orders are fulfilled; this one is {order.status}")
    _note(order, "Fulfillment re-enqueued.", actor)
    enqueue.after_commit("orders.tasks.fulfill_order", order.id)


@transaction.atomic
def cancel(order, actor):
    """Cancel a pending order that no payment is under way for, and put its stock back.

    The order row is locked, and payments.charge saves a PaymentIntent id only under the
    same lock while the order is pending: so either the cancel wins and no intent is ever
    confirmed, or an intent exists and the cancel is refused (refund it once it settles).
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != OrderStatus.PENDING:
        raise OperationRefused(f"only pending orders can be canceled; this one is {locked.status}")
    if Payment.objects.filter(order=locked, payment_intent_id__isnull=False).exists():
        raise OperationRefused("a payment is already under way; wait for it to settle, then refund")
    transition(locked.id, OrderStatus.PENDING, OrderStatus.CANCELED, message="Canceled by staff.", actor=actor)
    stock.release(locked.lines.all())


@transaction.atomic
def request_refund(order, actor):
    """Queue payments.tasks.refund_order for a paid or fulfilled order."""
    if order.status not in CHARGED:
        raise OperationRefused(f"only paid or fulfilled orders can be refunded; this one is {order.status}")
    _note(order, "Refund requested.", actor)
    Payment.objects.filter(order=order).update(refund_requested_at=timezone.now())
    enqueue.after_commit("payments.tasks.refund_order", order.id, actor=actor)


@transaction.atomic
def mark_reviewed(order, actor):
    """Send a needs_review order back into the pipeline: to paid if the charge went through
    (fulfill_order then fans out label and receipt), else to pending with a fresh attempt
    budget (fulfill_order then looks at Stripe again)."""
    if order.status != OrderStatus.NEEDS_REVIEW:
        raise OperationRefused(f"only orders in needs_review can be marked reviewed; this one is {order.status}")
    charged = Payment.objects.filter(order=order, status=Payment.Status.SUCCEEDED).exists()
    to_status = OrderStatus.PAID if charged else OrderStatus.PENDING
    transition(order.id, OrderStatus.NEEDS_REVIEW, to_status, message="Reviewed by staff.", actor=actor)
    Order.objects.filter(pk=order.pk).update(attempts=0)
    enqueue.after_commit("orders.tasks.fulfill_order", order.id)
