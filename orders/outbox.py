"""The transactional outbox: how the parts above orders/ learn what happened to an order.

A state change that others must learn of (an order paid, a parcel shipped, a return received)
calls `emit()` inside its own transaction. That writes an OutboxEvent row, listing the
consumers that want the event, and, once the transaction commits, publishes one Celery task
per consumer with the event's id (`dispatch`). Each consumer handles the event idempotently
(deduplicating by the event id) and then calls `handled()`, which strikes it off the row.

Nothing is lost: a publish that fails (the broker away, the process killed between commit and
publish) leaves the consumer listed, and reconciliation's `sweep()` publishes again to every
consumer still listed after RECONCILE_AFTER. Nothing is doubled: consumers deduplicate.

orders/ does not import its consumers (they sit above it: notifications/, webhooks/, returns/).
They register here from their AppConfig.ready(), by task name, with the event types they want:

    outbox.subscribe("webhooks.tasks.on_event", types=outbox.PUBLIC_TYPES, wants=subscribers.any_wants)

`wants(type)` (optional) is asked in the emitting transaction, so a consumer with nobody to
tell (no webhook subscriber) costs the change no publish.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models, transaction
from django.db.models import F, Func, Q, Value
from django.utils import timezone

from harbor import enqueue
from orders.models import OrderStatus, OutboxEvent

logger = logging.getLogger(__name__)

# The events outside systems may subscribe to (webhooks), and what each means.
PUBLIC_TYPES = (
    "order.created", "order.paid", "order.fulfilled", "order.payment_failed", "order.canceled",
    "order.refunded", "shipment.created", "shipment.shipped", "return.requested", "return.received",
)
# Status moves that are events (orders/state.py transition() emits them).
STATUS_EVENTS = {
    OrderStatus.PAID: "order.paid",
    OrderStatus.FULFILLED: "order.fulfilled",
    OrderStatus.PAYMENT_FAILED: "order.payment_failed",
    OrderStatus.CANCELED: "order.canceled",
    OrderStatus.REFUNDED: "order.refunded",
}


@dataclass(frozen=True)
class Consumer:
    task: str
    types: frozenset
    wants: object = None  # callable(event_type) -> bool, or None: always

    def wants_event(self, event_type):
        return event_type in self.types and (self.wants is None or self.wants(event_type))


CONSUMERS = {}


def subscribe(task, types, wants=None):
    """Register a consumer (from an AppConfig.ready()): `task` is sent the event's id."""
    CONSUMERS[task] = Consumer(task, frozenset(types), wants)


def emit(event_type, order_id, data=None):
    """Record that `event_type` happened to the order, in the caller's transaction (call it
    inside the transaction that makes the change). Returns the event, or None if no consumer
    wants it."""
    pending = [c.task for c in CONSUMERS.values() if c.wants_event(event_type)]
    if not pending:
        return None
    event = OutboxEvent.objects.create(type=event_type, order_id=order_id, pending=pending,
                                       data={"order_id": str(order_id), **(data or {})})
    pk = event.pk
    transaction.on_commit(lambda: dispatch(pk, pending), robust=True)
    return event


def replay(order_id, event_type):
    """Send the order's latest `event_type` event again to every consumer of that type (they
    dedupe): reconciliation's remedy for an effect that is still missing (a receipt). An order
    with no such event (it changed before the outbox existed) gets one now."""
    consumers = [c.task for c in CONSUMERS.values() if c.wants_event(event_type)]
    event = OutboxEvent.objects.filter(order_id=order_id, type=event_type).order_by("-pk").first()
    if event is None:
        return emit(event_type, order_id)
    OutboxEvent.objects.filter(pk=event.pk).update(pending=consumers)
    transaction.on_commit(lambda: dispatch(event.pk, consumers), robust=True)
    return event


def dispatch(event_pk, consumers=None):
    """Publish the event to `consumers` (emit's list: no query), or to each consumer still
    listed. A failed publish is logged; the consumer stays listed and the sweep sends it again."""
    if consumers is None:
        consumers = OutboxEvent.objects.filter(pk=event_pk).values_list("pending", flat=True).first() or []
    for task in consumers:
        try:
            enqueue.send(task, event_pk)
        except Exception as exc:  # kombu's OperationalError, a socket error: the sweep resends
            logger.warning("outbox: could not publish %s for event %s (%s: %s); reconciliation sends it again",
                           task, event_pk, exc.__class__.__name__, exc)


def handled(event_pk, consumer):
    """The consumer has done what the event asks of it: strike it off (idempotent)."""
    OutboxEvent.objects.filter(pk=event_pk).update(
        pending=Func(F("pending"), Value(consumer), function="array_remove",
                     output_field=ArrayField(models.CharField(max_length=100))))


def load(event_pk):
    """The event a consumer was sent (None if its order was deleted meanwhile)."""
    return OutboxEvent.objects.filter(pk=event_pk).first()


def sweep(now=None, limit=500):
    """Publish again every event some consumer has not handled RECONCILE_AFTER after it was
    written (or last swept): never published (the process died between commit and publish),
    the message lost with the broker, or its task out of retries. Rows are taken with SKIP
    LOCKED and stamped (dispatched_at), so two sweeps split the work and the next sweep waits
    another RECONCILE_AFTER."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.RECONCILE_AFTER)
    with transaction.atomic():
        due = list(OutboxEvent.objects.exclude(pending=[])
                   .filter(Q(dispatched_at__lt=cutoff) | Q(dispatched_at__isnull=True, created_at__lt=cutoff))
                   .select_for_update(skip_locked=True).order_by("pk").values_list("pk", flat=True)[:limit])
        OutboxEvent.objects.filter(pk__in=due).update(dispatched_at=now)
    for pk in due:
        dispatch(pk)
    return {"outbox_events": len(due)} if due else {}
