"""Who wants an event: asked by orders/outbox.py in the emitting transaction, so an order change
writes no outbox row for the webhooks when no active subscriber wants its type."""

from django.db.models import Q

from webhooks.models import Subscriber


def wanting(event_type):
    return Subscriber.objects.filter(Q(events__contains=[event_type]) | Q(events__contains=["*"]), active=True)


def anyone_wants(event_type):
    return wanting(event_type).exists()
