"""The order state machine. Every status change goes through `transition()`.

A change is a conditional UPDATE (`... WHERE id = %s AND status = <from>`) plus an
OrderEvent row in the same transaction. When several processes race to move the same
order (retried tasks, webhooks, staff), exactly one UPDATE matches and the others get
False back, so each effect that follows a transition happens once.
"""

import logging

from django.db import transaction
from django.utils import timezone

from orders import outbox
from orders.models import Order, OrderEvent
from orders.models import OrderStatus as S

logger = logging.getLogger(__name__)

ALLOWED = {
    S.PENDING: {S.REQUIRES_ACTION, S.PAID, S.PAYMENT_FAILED, S.CANCELED, S.NEEDS_REVIEW},
    # Waiting for the shopper's 3-D Secure: Stripe's answer moves it on, or the window closes.
    S.REQUIRES_ACTION: {S.PAID, S.PAYMENT_FAILED, S.CANCELED, S.NEEDS_REVIEW},
    S.PAID: {S.FULFILLED, S.REFUNDED, S.NEEDS_REVIEW},
    S.FULFILLED: {S.REFUNDED, S.NEEDS_REVIEW},  # review: a refund that failed at Stripe
    # Staff resolve a review by moving the order on to where it belongs.
    S.NEEDS_REVIEW: {S.PENDING, S.PAID, S.FULFILLED, S.PAYMENT_FAILED, S.CANCELED, S.REFUNDED},
    # Ended without a charge, and Stripe charged all the same (a confirm that got through before
    # the intent was canceled): refunded automatically (orders/voiding.py), or to review if
    # that refund fails.
    S.PAYMENT_FAILED: {S.REFUNDED, S.NEEDS_REVIEW},
    S.CANCELED: {S.REFUNDED, S.NEEDS_REVIEW},
    S.REFUNDED: {S.NEEDS_REVIEW},  # a refund that failed later at Stripe: the money did not go back
}


class IllegalTransition(Exception):
    pass


def transition(order_id, from_status, to_status, *, message="", actor="system"):
    """Move the order from `from_status` to `to_status`; return True if this call did it.

    Raises IllegalTransition (writing nothing) if the state machine forbids the move.
    Returns False, writing nothing, if the order is not in `from_status` any more.
    """
    if to_status not in ALLOWED.get(from_status, ()):
        raise IllegalTransition(f"{from_status} → {to_status} is not allowed")
    # savepoint=False: inside a caller's transaction (the paid move, a refund's settle) no
    # savepoint is needed, as nothing here is caught and retried: an error rolls the caller's
    # whole transaction back. That is two round trips fewer on every status change.
    with transaction.atomic(savepoint=False):
        moved = Order.objects.filter(pk=order_id, status=from_status).update(
            status=to_status, updated_at=timezone.now()
        )
        if moved:
            OrderEvent.objects.create(
                order_id=order_id, from_status=from_status, to_status=to_status, message=message, actor=actor
            )
            # The move's event for the parts above orders (e-mails, webhooks), in the same
            # transaction: no event without the move, no move without its event.
            if to_status in outbox.STATUS_EVENTS:
                outbox.emit(outbox.STATUS_EVENTS[to_status], order_id,
                            {"status": to_status, "from_status": from_status})
    if moved:
        logger.info("order %s: %s → %s (%s) %s", order_id, from_status, to_status, actor, message)
    return bool(moved)
