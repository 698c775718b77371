"""Reconciliation: find orders stuck in pending or paid and push them on.

Celery delivers at least once, but a message can still be missing: the broker was down
when checkout committed (the order is stored, the publish failed), the web process died
between commit and publish, or Redis lost its data. The order row itself is the record
of work to do, so no separate outbox is needed: any order that has sat in `pending` or
`paid` longer than RECONCILE_AFTER is re-enqueued here.

- pending → fulfill_order again. It looks at Stripe first: an intent already created is
  retrieved and settled (confirmed once, or its outcome recorded), never charged twice.
- paid → the fan-out task whose effect is missing (label, receipt), or completion.
- past the attempt cap → needs_review, with an event saying why.
- a refund staff requested that has not happened → refund_order again.
- a payment-failed or refund e-mail that never went out → its task again.

Rows are taken with SELECT ... FOR UPDATE SKIP LOCKED in pk order and their updated_at is
bumped, so two beat processes (or two runs) split the stuck orders instead of doubling up.
"""

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from harbor import enqueue
from notifications.models import Notification
from orders.fulfillment import give_up, missing_fan_out
from orders.models import CHARGED, UNFINISHED, Order, OrderStatus
from payments.models import Payment

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
                     .select_related("shipment").order_by("pk")[:limit])
        for order in stuck:
            for action in _actions(order):
                done[action] += 1
        # Bump updated_at (the next look is RECONCILE_AFTER away) and count the round.
        Order.objects.filter(pk__in=[o.pk for o in stuck]).update(updated_at=now, attempts=F("attempts") + 1)
        done.update(_requested_refunds(now))
    done.update(_unsent_emails(now))
    if done:
        logger.warning("reconcile: %s", dict(done))
    return dict(done)


def _requested_refunds(now):
    """Refunds staff asked for that have not happened (the task was lost or failed)."""
    cutoff = now - timedelta(seconds=settings.RECONCILE_AFTER)
    waiting = list(Payment.objects.select_for_update(skip_locked=True)
                   .filter(refund_requested_at__lt=cutoff, order__status__in=CHARGED)
                   .values_list("pk", "order_id"))
    Payment.objects.filter(pk__in=[pk for pk, _ in waiting]).update(refund_requested_at=now)
    for _, order_id in waiting:
        enqueue.after_commit("payments.tasks.refund_order", order_id, actor=ACTOR)
    return {"refund_order": len(waiting)} if waiting else {}


EMAIL_FOR_STATUS = {OrderStatus.PAYMENT_FAILED: ("payment_failed", "notifications.tasks.send_payment_failed"),
                    OrderStatus.REFUNDED: ("refund", "notifications.tasks.send_refund")}


def _unsent_emails(now):
    """Shoppers not yet told that their payment failed or their refund went through
    (the e-mail task was lost with the broker). Looks back a week; the task is idempotent."""
    done = Counter()
    recent = Order.objects.filter(updated_at__lt=now - timedelta(seconds=settings.RECONCILE_AFTER),
                                  updated_at__gt=now - timedelta(days=7))
    for status, (kind, task) in EMAIL_FOR_STATUS.items():
        sent = Notification.objects.filter(kind=kind, sent_at__isnull=False).values("order_id")
        for order_id in recent.filter(status=status).exclude(pk__in=sent).values_list("pk", flat=True):
            enqueue.after_commit(task, order_id)
            done[task.rsplit(".", 1)[1]] += 1
    return done


def _actions(order):
    if order.attempts >= settings.FULFILL_MAX_ATTEMPTS:
        give_up(order, f"Reconciliation gave up: {order.attempts} fulfillment attempts without finishing.", ACTOR)
        return ["needs_review"]
    if order.status == OrderStatus.PENDING:
        enqueue.after_commit("orders.tasks.fulfill_order", order.id)
        return ["fulfill_order"]
    missing = missing_fan_out(order)
    # Both effects present but the order not completed (a crash between): a fan-out task
    # re-run completes it without repeating its effect.
    for task in missing or ["orders.tasks.create_label"]:
        enqueue.after_commit(task, order.id)
    return [task.rsplit(".", 1)[1] for task in missing] or ["complete"]
