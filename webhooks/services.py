"""Delivering the order's events to the subscribers' URLs: fan-out, then one POST per delivery.

1. `fan_out(event)` (the outbox consumer, webhooks.tasks.on_event): one Delivery per active
   subscriber that wants the event's type, numbered in that subscriber's sequence. All
   fan-outs take one advisory lock, and the order's earlier events that are not yet fanned
   out go first, so a subscriber's sequence numbers follow each order's history. Repeating
   it for the same event does nothing (FannedOut).
2. `deliver(delivery)` (webhooks.tasks.deliver, on its own `webhooks` queue, so a slow receiver
   never delays a charge): claims the delivery with a lease (a conditional UPDATE of
   claimed_until; no row lock is held across the POST), sends it signed, logs the attempt,
   and on 2xx marks it delivered and hands on to the order's next delivery: one order's events
   reach a subscriber in sequence. Anything else is tried again after an exponential backoff
   (WEBHOOK_RETRY_BASE doubling, at most WEBHOOK_RETRY_MAX_BACKOFF) until WEBHOOK_RETRY_FOR
   after it was created; a subscriber failing for WEBHOOK_DISABLE_AFTER is disabled.
3. `due()` (webhooks.tasks.deliver_due, every WEBHOOK_SWEEP_INTERVAL): the deliveries whose
   next try is due and that no earlier delivery of the same order holds back.

A worker killed mid-POST leaves the delivery claimed until the lease ends; then it is sent
again. The receiver may see an event twice and dedupes by its id (Harbor-Event-Id).
"""

import json
import logging
import random
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from harbor import failpoints
from orders.models import OutboxEvent
from orders.outbox import PUBLIC_TYPES
from webhooks import signing, ssrf
from webhooks.models import Attempt, Delivery, FannedOut, Subscriber

logger = logging.getLogger(__name__)
FAN_OUT_LOCK = 0x48424B57  # "HBKW": pg_advisory_xact_lock key serializing fan-outs


def fan_out(event_pk):
    """Deliveries for the event (and its order's earlier events not yet fanned out). Returns the
    new deliveries' ids."""
    event = OutboxEvent.objects.filter(pk=event_pk).values("order_id").first()
    if event is None:
        return []
    created = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FAN_OUT_LOCK])
        subscribers = list(Subscriber.objects.filter(active=True).order_by("pk"))
        events = list(OutboxEvent.objects.filter(order_id=event["order_id"], pk__lte=event_pk, type__in=PUBLIC_TYPES)
                      .exclude(Exists(FannedOut.objects.filter(event=OuterRef("pk")))).order_by("pk"))
        now = timezone.now()
        for ev in events:
            for subscriber in subscribers:
                # A subscriber is told what happens from when it was added, not before.
                if subscriber.wants(ev.type) and ev.created_at >= subscriber.created_at:
                    subscriber.last_sequence += 1
                    created.append(Delivery.objects.create(subscriber=subscriber, event=ev, order_id=ev.order_id,
                                                           sequence=subscriber.last_sequence, next_attempt_at=now).pk)
            FannedOut.objects.create(event=ev)
        for subscriber in subscribers:
            Subscriber.objects.filter(pk=subscriber.pk).update(last_sequence=subscriber.last_sequence)
    return created


def payload(delivery):
    event = delivery.event
    return json.dumps({"id": str(event.event_id), "type": event.type, "created": int(event.created_at.timestamp()),
                       "sequence": delivery.sequence, "data": event.data}, separators=(",", ":")).encode()


def backoff(attempts):
    """Seconds before try number attempts + 1: doubling from WEBHOOK_RETRY_BASE, capped, with
    jitter (so receivers coming back are not hit by every delivery at once)."""
    delay = min(settings.WEBHOOK_RETRY_BASE * 2 ** (attempts - 1), settings.WEBHOOK_RETRY_MAX_BACKOFF)
    return delay * random.uniform(0.8, 1.0)


def _earlier_pending():
    """An earlier delivery of the same order to the same subscriber, still pending."""
    return Delivery.objects.filter(subscriber_id=OuterRef("subscriber_id"), order_id=OuterRef("order_id"),
                                   sequence__lt=OuterRef("sequence"), status=Delivery.Status.PENDING)


def deliver(delivery_pk):
    """Try the delivery once, if it is due and nobody else is on it. Returns (outcome, next):
    ("delivered", the order's next delivery id or None), ("failed", seconds to the next try),
    or (why not, None)."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT + settings.WEBHOOK_LEASE_MARGIN)
    # One conditional UPDATE claims it: due, unclaimed (or its claimer's lease ran out), and
    # first in its order's line (a held-back delivery is never leased, so the predecessor's
    # hand-on always finds it free).
    claimed = (Delivery.objects.filter(pk=delivery_pk, status=Delivery.Status.PENDING, next_attempt_at__lte=now,
                                       subscriber__active=True)
               .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
               .exclude(Exists(_earlier_pending())).update(claimed_until=lease))
    if not claimed:
        held = Delivery.objects.filter(pk=delivery_pk, status=Delivery.Status.PENDING).filter(
            Exists(_earlier_pending())).exists()
        return ("held back" if held else "not due"), None  # held back: its predecessor hands on to it
    delivery = Delivery.objects.select_related("subscriber", "event").get(pk=delivery_pk)
    code, error, latency = _post(delivery)
    # The attempt and its outcome are one commit: a worker killed between them would leave a
    # 200 logged on a delivery still pending (sent again after the lease, numbered 1 twice).
    with transaction.atomic():
        Attempt.objects.create(delivery=delivery, number=delivery.attempts + 1, started_at=now,
                               status_code=code, latency_ms=latency, error=error)
        if not error:
            return "delivered", _delivered(delivery, code)
        return "failed", _failed(delivery, code, error, now)


def _post(delivery):
    subscriber = delivery.subscriber
    body = payload(delivery)
    timestamp = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "Harbor-Webhooks/1",
               "Harbor-Event-Id": str(delivery.event.event_id),
               "Harbor-Signature": signing.header(subscriber.secret, timestamp, body)}
    failpoints.hit("webhook.before_post", str(delivery.order_id))
    started = time.monotonic()
    code, error = None, ""
    try:
        ssrf.check(subscriber.url)  # again: DNS may have changed since the subscriber was saved
        answer = requests.post(subscriber.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT,
                               allow_redirects=False)
        code = answer.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {answer.text[:200]}"
    except ssrf.Refused as exc:
        error = f"refused: {exc}"
    except requests.RequestException as exc:
        error = f"{exc.__class__.__name__}: {exc}"[:1000]
    return code, error, int((time.monotonic() - started) * 1000)


def _delivered(delivery, code):
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.DELIVERED, delivered_at=timezone.now(), attempts=F("attempts") + 1,
        claimed_until=None, last_status_code=code, last_error="")
    Subscriber.objects.filter(pk=delivery.subscriber_id, failing_since__isnull=False).update(failing_since=None)
    return (Delivery.objects.filter(subscriber_id=delivery.subscriber_id, order_id=delivery.order_id,
                                    status=Delivery.Status.PENDING).order_by("sequence")
            .values_list("pk", flat=True).first())


def _failed(delivery, code, error, now):
    delay = backoff(delivery.attempts + 1)
    gave_up = now - delivery.created_at >= timedelta(seconds=settings.WEBHOOK_RETRY_FOR)
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=F("attempts") + 1, claimed_until=None, last_status_code=code, last_error=error,
        next_attempt_at=now + timedelta(seconds=delay),
        status=Delivery.Status.FAILED if gave_up else Delivery.Status.PENDING)
    logger.warning("webhook delivery %s to %s failed (attempt %s): %s%s", delivery.pk, delivery.subscriber.url,
                   delivery.attempts + 1, error, "; given up" if gave_up else f"; next try in {delay:.0f} s")
    subscriber = delivery.subscriber
    Subscriber.objects.filter(pk=subscriber.pk, failing_since__isnull=True).update(failing_since=now)
    hours = settings.WEBHOOK_DISABLE_AFTER / 3600
    if Subscriber.objects.filter(pk=subscriber.pk, active=True,
                                 failing_since__lte=now - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER)).update(
            active=False, disabled_at=now, disabled_reason=f"Every delivery failed for {hours:g} h; last: {error}"[:300]):
        logger.error("webhook subscriber %s disabled: every delivery failed for %g h (last: %s)",
                     subscriber.url, hours, error)
    return None if gave_up else delay


def due(now=None, limit=500):
    """Pending deliveries whose next try is due, claimed by nobody, and first in their order's line."""
    now = now or timezone.now()
    return list(Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now,
                                        subscriber__active=True)
                .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
                .exclude(Exists(_earlier_pending())).order_by("pk").values_list("pk", flat=True)[:limit])


def redeliver(delivery_ids):
    """Ops: send these again now (delivered ones too: the receiver dedupes by the event id).
    Returns how many were queued."""
    now = timezone.now()
    ids = list(Delivery.objects.filter(pk__in=delivery_ids).values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(status=Delivery.Status.PENDING, next_attempt_at=now, claimed_until=None,
                                               delivered_at=None)
    return ids
