"""POST /payments/webhooks/stripe/: Stripe's events, signature checked on the raw body.

400 (nothing stored) for a bad or stale signature or a payload that is not an event;
otherwise 200, also for a duplicate, an unknown order or an event type Harbor ignores,
so Stripe stops retrying. payments.webhooks checks and stores; orders.payment_events
says what an event does to its order, in the same transaction as the stored row.
"""

import logging

from django.db import transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orders import payment_events
from payments import webhooks

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = webhooks.verify(request)
    except webhooks.Refused as exc:
        logger.warning("stripe webhook refused: %s (%s)", exc, exc.__cause__)
        return JsonResponse({"error": str(exc)}, status=400)
    with transaction.atomic():
        stored = webhooks.store(event)
        if stored is None:
            return JsonResponse({"id": event["id"], "duplicate": True})
        stored.outcome, stored.processed_at = payment_events.apply(event), timezone.now()
        stored.save(update_fields=["outcome", "processed_at"])
    logger.info("stripe event %s (%s): %s", event["id"], event["type"], stored.outcome)
    return JsonResponse({"id": event["id"], "outcome": stored.outcome})
