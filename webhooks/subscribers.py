"""Who wants an event: asked by orders/outbox.py in the emitting transaction, so an order change
writes no outbox row for the webhooks when no active subscriber wants its type.

The answer is kept for WEBHOOK_SUBSCRIBERS_TTL seconds per process (checkout and every status
move ask, and a shop without subscribers should pay no query for them); saving or deleting a
subscriber forgets it at once in the process that did it. So a subscriber added in the admin
is told of events from within WEBHOOK_SUBSCRIBERS_TTL of being added, in every process.
"""

import time

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from orders.outbox import PUBLIC_TYPES
from webhooks.models import Subscriber

_known = {"at": None, "types": frozenset()}


def wanted_types():
    now = time.monotonic()
    if _known["at"] is None or now - _known["at"] >= settings.WEBHOOK_SUBSCRIBERS_TTL:
        types = set()
        for events in Subscriber.objects.filter(active=True).values_list("events", flat=True):
            types |= set(PUBLIC_TYPES) if "*" in events else set(events)
        _known.update(at=now, types=frozenset(types))
    return _known["types"]


def anyone_wants(event_type):
    return event_type in wanted_types()


@receiver([post_save, post_delete], sender=Subscriber)
def forget(**kwargs):
    _known["at"] = None
