import logging

from celery import shared_task

from harbor import failpoints
from harbor.locks import lock_ttl_left, order_lock
from harbor.retry import retry_policy
from orders import fulfillment, reconcile, shipping

logger = logging.getLogger(__name__)


@shared_task(name="orders.tasks.fulfill_order", bind=True, **retry_policy())
def fulfill_order(self, order_id):
    """Charge the order once, then fan out label and receipt. Safe to send any number of times."""
    with order_lock(order_id) as held:
        if not held:
            # Another run holds the order: do nothing now. If the order is still unfinished,
            # look again soon, backing off up to when the lock expires: its holder may have
            # died (a killed pool child leaves its lock behind until the TTL).
            if not fulfillment.is_unfinished(order_id):
                return "locked"
            countdown = min(2 ** self.request.retries, lock_ttl_left(order_id) + 1)
            logger.info("fulfill_order(%s): locked by another run, retrying in %.1fs", order_id, countdown)
            raise self.retry(countdown=countdown)
        if not fulfillment.count_attempt(order_id):
            return "gave up"  # past the attempt cap: moved to needs_review
        failpoints.hit("fulfill.start", order_id)
        return fulfillment.fulfill(order_id)


@shared_task(name="orders.tasks.create_label", **retry_policy())
def create_label(order_id):
    """Fan-out half: make the shipping label once, then fulfill the order if the receipt went too."""
    shipping.create_label(order_id)
    fulfillment.complete_if_done(order_id, actor="create_label")


@shared_task(name="orders.tasks.reconcile_stuck_orders", acks_late=True)
def reconcile_stuck_orders():
    """Beat (every few minutes): push on orders stuck in pending or paid. Safe to run twice at once."""
    return reconcile.reconcile()
