from celery import shared_task

from harbor.logconfig import bind_order
from harbor.retry import retry_policy
from orders import outbox
from webhooks import services

CONSUMER = "webhooks.tasks.on_event"


@shared_task(name=CONSUMER, **retry_policy())
def on_event(event_id):
    """The outbox's consumer: the event's deliveries, each sent on. Safe to repeat (FannedOut)."""
    event = outbox.load(event_id)
    if event is None:
        return 0
    bind_order(event.order_id)
    created = services.fan_out(event.pk)
    outbox.handled(event.pk, CONSUMER)
    for delivery_id in created:
        deliver.delay(delivery_id)
    return len(created)


@shared_task(name="webhooks.tasks.deliver", **retry_policy())
def deliver(delivery_id):
    """One try of one delivery (a transient database error is retried by Celery; the receiver's
    failures are retried by the delivery's own schedule, which can run for a day)."""
    outcome, then = services.deliver(delivery_id)
    if outcome == "delivered" and then is not None:
        deliver.delay(then)  # the order's next event for this subscriber, in sequence
    elif outcome == "failed" and then is not None and then <= services.settings.TASK_RETRY_BACKOFF_MAX:
        # A short wait is a countdown in the broker; a long one is left to deliver_due (a
        # countdown past the broker's visibility timeout would be redelivered early on Redis).
        deliver.apply_async((delivery_id,), countdown=then)
    return outcome


@shared_task(name="webhooks.tasks.deliver_due", **retry_policy())
def deliver_due():
    """Periodic: send every delivery whose next try is due (a long backoff, a lost message, a
    worker killed mid-POST whose lease has run out, a subscriber enabled again)."""
    ids = services.due()
    for delivery_id in ids:
        deliver.delay(delivery_id)
    return len(ids)
