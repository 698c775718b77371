"""Stripe's webhook events: the signature checked on the raw body, each event stored once.

The view (orders/webhooks.py, at POST /payments/webhooks/stripe/) uses `verify()` and
`store()` from here, then lets orders/ apply the event: payments/ records what Stripe said,
orders/ decides what that means for an order.
"""

import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction

from payments.models import WebhookEvent

logger = logging.getLogger(__name__)


class Refused(Exception):
    """Not a genuine, well-formed Stripe event: answered 400, nothing stored."""


def verify(request):
    """The event as a dict, if the body is signed with STRIPE_WEBHOOK_SECRET within
    STRIPE_WEBHOOK_TOLERANCE and is an event at all; else Refused."""
    try:
        event = stripe.Webhook.construct_event(
            request.body, request.headers.get("Stripe-Signature"), settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        ).to_dict()
    except stripe.SignatureVerificationError as exc:
        raise Refused("invalid signature") from exc
    except (ValueError, TypeError, AttributeError) as exc:  # not UTF-8, not JSON, not an object
        raise Refused("unparseable payload") from exc
    if not is_well_formed(event):
        raise Refused("unparseable payload")
    return event


def is_well_formed(event):
    return (isinstance(event, dict) and isinstance(event.get("id"), str) and bool(event["id"])
            and isinstance(event.get("type"), str) and isinstance(event.get("data"), dict)
            and isinstance(event["data"].get("object"), dict))


def store(event):
    """The event's row, new; None if this event id was received before (a concurrent
    duplicate waits on the unique index). Call inside the transaction that applies it."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.create(stripe_id=event["id"], type=event["type"], payload=event)
    except IntegrityError:
        return None
