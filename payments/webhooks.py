"""POST /payments/webhooks/stripe/: Stripe's events, signature checked on the raw body.

400 (nothing stored) for a bad or stale signature or a payload that is not an event;
otherwise 200, also for a duplicate, an unknown order or an event type Harbor ignores,
so Stripe stops retrying. What each event does is in payments.events.
"""

import logging

import stripe
from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import events

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def stripe_webhook(request):
    try:
        event = stripe.Webhook.construct_event(
            request.body, request.headers.get("Stripe-Signature"), settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE,
        ).to_dict()
    except stripe.SignatureVerificationError as exc:
        logger.warning("stripe webhook refused: %s", exc)
        return JsonResponse({"error": "invalid signature"}, status=400)
    except (ValueError, TypeError, AttributeError) as exc:  # not UTF-8, not JSON, not an object
        logger.warning("stripe webhook refused: unparseable payload (%s)", exc)
        return JsonResponse({"error": "unparseable payload"}, status=400)
    if not events.is_well_formed(event):
        logger.warning("stripe webhook refused: not an event")
        return JsonResponse({"error": "unparseable payload"}, status=400)
    outcome = events.receive(event)
    if outcome is None:
        return JsonResponse({"id": event["id"], "duplicate": True})
    return JsonResponse({"id": event["id"], "outcome": outcome})
