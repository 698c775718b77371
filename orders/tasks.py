import logging

from celery import shared_task
from django.conf import settings

from harbor import failpoints
from harbor.locks import lock_ttl_left, order_lock
from harbor.logconfig import bind_order
from harbor.retry import retry_policy
from orders import cancellation, fulfillment, reconcile, refunds, shipping, stock, voiding
from payments import gateway

logger = logging.getLogger(__name__)
STRIPE_POLICY = retry_policy(*gateway.TRANSIENT_ERRORS)


def stripe_deadline():
    """Every Stripe call of a run ends before the soft time limit (payments.gateway.deadline)."""
    return gateway.deadline(settings.CELERY_TASK_SOFT_TIME_LIMIT - 1)


def _retry_when_locked(task, order_id):
    """Another run holds the order: look again soon, backing off up to when the lock
    expires (its holder may have died: a killed pool child leaves its lock until the TTL)."""
    countdown = max(1, min(2 ** task.request.retries, int(lock_ttl_left(order_id)) + 1))
    logger.info("%s(%s): locked by another run, retrying in %ss", task.name, order_id, countdown)
    return task.retry(countdown=countdown)


@shared_task(name="orders.tasks.fulfill_order", bind=True, **STRIPE_POLICY)
def fulfill_order(self, order_id):
    """Charge the order once, then fan out label and receipt. Safe to send any number of times."""
    bind_order(order_id)
    failpoints.hit("fulfill.received", order_id)  # before the lock (and the attempt cap) can see the run
    with order_lock(order_id) as held:
        if not held:
            if not fulfillment.is_unfinished(order_id):
                return "locked"
            raise _retry_when_locked(self, order_id)
        order = fulfillment.begin_run(order_id)
        if order is None:
            return "gave up"  # past the attempt cap: moved to needs_review
        try:
            failpoints.hit("fulfill.start", order_id)
            with stripe_deadline():
                result = fulfillment.fulfill(order_id, order)
        except BaseException as exc:
            fulfillment.end_run(order_id, exc)
            raise
        fulfillment.end_run(order_id)
        return result


@shared_task(name="orders.tasks.create_label", **retry_policy())
def create_label(order_id, shipment_id=None):
    """Fan-out part: make one shipment's label once (without `shipment_id`: every shipment's
    that has none, making the shipments first if the order has none), then fulfill the order
    if every label and the receipt exist."""
    bind_order(order_id)
    if shipment_id is None:
        fulfillment.ensure_shipments_of(order_id)
    shipping.create_label(order_id, shipment_id)
    fulfillment.complete_if_done(order_id, actor="create_label")


@shared_task(name="orders.tasks.cancel_order", bind=True, **STRIPE_POLICY)
def cancel_order(self, order_id, reason="Canceled.", actor="cancel_order"):
    """Cancel an order that was not charged: its PaymentIntent canceled at Stripe first, then
    the order, its stock and the e-mail. Safe to send any number of times."""
    bind_order(order_id)
    with order_lock(order_id) as held:
        if not held:
            raise _retry_when_locked(self, order_id)  # a fulfill_order run is on it: after it
        try:
            with stripe_deadline():
                return cancellation.cancel(order_id, reason=reason, actor=actor)
        except cancellation.AlreadyCharged as exc:
            return f"not canceled: {exc}"


@shared_task(name="orders.tasks.void_payment", bind=True, **STRIPE_POLICY)
def void_payment(self, order_id, actor="void_payment"):
    """Cancel at Stripe the intent of an order that ended without a charge, or refund it in
    full if Stripe charged it after all (orders/voiding.py). Safe to send any number of times."""
    bind_order(order_id)
    with order_lock(order_id) as held:
        if not held:
            raise _retry_when_locked(self, order_id)
        with stripe_deadline():
            return voiding.void(order_id, actor=actor)


@shared_task(name="orders.tasks.refund_order", bind=True, **STRIPE_POLICY)
def refund_order(self, order_id, actor="refund_order"):
    """Carry out the order's requested refunds at Stripe and record them; safe to send any
    number of times (orders/refunds.py)."""
    bind_order(order_id)
    with order_lock(order_id) as held:
        if not held:
            raise _retry_when_locked(self, order_id)
        with stripe_deadline():
            return refunds.carry_out(order_id, actor=actor)


@shared_task(name="orders.tasks.reconcile_stuck_orders", acks_late=True)
def reconcile_stuck_orders():
    """Beat (every few minutes): push on orders stuck in pending or paid. Safe to run twice at once."""
    return reconcile.reconcile()


@shared_task(name="orders.tasks.audit_stock")
def audit_stock():
    """Nightly: report (never fix) stock that disagrees with the order lines. The result,
    kept in django-celery-results, lists each drifting SKU."""
    drift = stock.stock_drift()
    return {"products_with_drift": len(drift), "drift": drift}


@shared_task(name="orders.tasks.forget_idempotency_keys")
def forget_idempotency_keys():
    """Nightly: Idempotency-Keys are remembered for IDEMPOTENCY_KEY_TTL (24 h), then dropped."""
    from orders.checkout import forget_expired_keys

    return {"forgotten": forget_expired_keys()}
