"""Reconciliation: find orders the pipeline still owes work and push them on.

Celery delivers at least once, but a message can still be missing: the broker was down
when checkout committed (the order is stored, the publish failed), the web process died
between commit and publish, Redis lost its data, or a task used up its retries during an
outage. The order row itself is the record of the pipeline's work to do; what the parts above
orders/ owe (e-mails, webhooks) is recorded in the outbox (orders/outbox.py).
Every order untouched for RECONCILE_AFTER is looked at:

- pending → fulfill_order again. It looks at Stripe first: an intent already created is
  retrieved and settled (confirmed once, or its outcome recorded), never charged twice.
  A pending order that never got a payment attempt within RESERVATION_WINDOW is canceled,
  so abandoned or abusive orders do not hold stock.
- paid → the fan-out task whose effect is missing (label, receipt), or completion.
- requires_action (3-D Secure) → fulfill_order, which asks Stripe whether the shopper has
  authenticated (a page closed before telling Harbor); past AUTHENTICATION_WINDOW →
  cancel_order (intent canceled at Stripe, stock released, shopper told).
- at the attempt cap (runs that died) → needs_review, with an event saying why.
- a refund requested (or pending at Stripe) that has not settled → refund_order again.
- an order event (orders/outbox.py) some consumer has not handled → published to it again
  (a payment-failed, canceled or refund e-mail that never went out, a webhook not fanned out).
- a payment recorded failed whose intent Stripe has not confirmed canceled → void_payment
  (cancel it at Stripe, or refund it if it was charged after all: orders/voiding.py).

A reconciliation round is not an attempt: an order that keeps failing for a transient
reason (a Stripe outage) is simply sent again, until Stripe answers.

Rows are taken with SELECT ... FOR UPDATE SKIP LOCKED in pk order and their updated_at is
bumped, so two beat processes (or two runs) split the stuck orders instead of doubling up.
"""

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from harbor import enqueue
from orders import authentication, outbox, voiding
from orders.fulfillment import RECEIPT, give_up, missing_fan_out
from orders.models import UNFINISHED, Order, OrderStatus
from payments.models import Payment, Refund

logger = logging.getLogger(__name__)
ACTOR = "reconcile_stuck_orders"


def stuck_orders(now):
    """Orders the pipeline still owes work that nobody has touched for RECONCILE_AFTER."""
    return Order.objects.filter(status__in=UNFINISHED, updated_at__lt=now - timedelta(seconds=settings.RECONCILE_AFTER))


def reconcile(limit=500):
    now = timezone.now()
    done = Counter()
    with transaction.atomic():
        stuck = list(stuck_orders(now).select_for_update(skip_locked=True, of=("self",))
                     .prefetch_related("shipments").order_by("pk")[:limit])
        unpaid = _never_tried(now, [o.pk for o in stuck if o.status == OrderStatus.PENDING])
        for order in stuck:
            for action in _actions(order, unpaid):
                done[action] += 1
        Order.objects.filter(pk__in=[o.pk for o in stuck]).update(updated_at=now)  # next look: RECONCILE_AFTER away
        done.update(_awaiting_authentication(now, limit))
        done.update(_unsettled_refunds(now))
        done.update(_live_intents(now, limit))
    done.update(outbox.sweep(now))  # events a consumer (webhooks, e-mails) has not yet handled
    if done:
        logger.warning("reconcile: %s", dict(done))
    return dict(done)


def _never_tried(now, pending_ids):
    """Pending orders older than RESERVATION_WINDOW with no payment attempt at all."""
    cutoff = now - timedelta(seconds=settings.RESERVATION_WINDOW)
    tried = Payment.objects.filter(order_id__in=pending_ids).values("order_id")
    return set(Order.objects.filter(pk__in=pending_ids, created_at__lt=cutoff).exclude(pk__in=tried)
               .values_list("pk", flat=True))


def _actions(order, unpaid):
    if order.attempts >= settings.FULFILL_MAX_ATTEMPTS:
        give_up(order, f"Reconciliation gave up: {order.attempts} fulfillment runs died without finishing.", ACTOR)
        return ["needs_review"]
    if order.pk in unpaid:
        hours = settings.RESERVATION_WINDOW / 3600
        enqueue.after_commit("orders.tasks.cancel_order", order.id, actor=ACTOR,
                             reason=f"No payment was attempted within {hours:g} h: the reserved stock is released.")
        return ["cancel_unpaid"]
    if order.status == OrderStatus.PENDING:
        enqueue.after_commit("orders.tasks.fulfill_order", order.id)
        return ["fulfill_order"]
    missing = missing_fan_out(order)
    # Every effect present but the order not completed (a crash between): a fan-out task
    # re-run completes it without repeating its effect.
    for task, kwargs in missing or [("orders.tasks.create_label", {})]:
        if task == RECEIPT:
            outbox.replay(order.id, "order.paid")  # to its consumers again: the e-mail's dedupes
        else:
            enqueue.after_commit(task, order.id, **kwargs)
    return [task.rsplit(".", 1)[-1] for task, _ in missing] or ["complete"]


def _awaiting_authentication(now, limit):
    """3-D Secure orders: look at Stripe again every RECONCILE_AFTER; cancel once the window closed."""
    done = Counter()
    cutoff = now - timedelta(seconds=settings.RECONCILE_AFTER)
    waiting = list(Order.objects.filter(status=OrderStatus.REQUIRES_ACTION, updated_at__lt=cutoff)
                   .select_for_update(skip_locked=True, of=("self",)).order_by("pk").values_list("pk", flat=True)[:limit])
    too_late = set(authentication.expired(now).filter(pk__in=waiting).values_list("pk", flat=True))
    for order_id in waiting:
        if order_id in too_late:
            minutes = settings.AUTHENTICATION_WINDOW // 60
            enqueue.after_commit("orders.tasks.cancel_order", order_id, actor=ACTOR,
                                 reason=f"The payment was not authenticated within {minutes} minutes.")
            done["cancel_order"] += 1
        else:
            enqueue.after_commit("orders.tasks.fulfill_order", order_id)
            done["check_authentication"] += 1
    Order.objects.filter(pk__in=waiting).update(updated_at=now)
    return done


def _unsettled_refunds(now):
    """Refunds requested but not made (the task was lost or ran out of retries), or made but
    still pending at Stripe: refund_order again (it gives a request up after REFUND_MAX_ATTEMPTS)."""
    cutoff = now - timedelta(seconds=settings.RECONCILE_AFTER)
    waiting = list(Refund.objects.select_for_update(skip_locked=True)
                   .filter(status__in=(Refund.Status.REQUESTED, Refund.Status.PENDING), updated_at__lt=cutoff)
                   .values_list("pk", "payment__order_id"))
    Refund.objects.filter(pk__in=[pk for pk, _ in waiting]).update(updated_at=now)
    orders = sorted({order_id for _, order_id in waiting})
    for order_id in orders:
        enqueue.after_commit("orders.tasks.refund_order", order_id, actor=ACTOR)
    return {"refund_order": len(orders)} if orders else {}


def _live_intents(now, limit):
    """Payments recorded failed whose intent Stripe has not confirmed canceled (the void_payment
    task was lost, or Stripe was away): void_payment again, until Stripe says canceled, or
    refund the charge if it went through (orders/voiding.py)."""
    cutoff = now - timedelta(seconds=settings.RECONCILE_AFTER)
    waiting = list(voiding.live_intents().filter(updated_at__lt=cutoff).select_for_update(skip_locked=True)
                   .order_by("pk").values_list("pk", "order_id")[:limit])
    Payment.objects.filter(pk__in=[pk for pk, _ in waiting]).update(updated_at=now)
    for _, order_id in waiting:
        enqueue.after_commit("orders.tasks.void_payment", order_id, actor=ACTOR)
    return {"void_payment": len(waiting)} if waiting else {}
