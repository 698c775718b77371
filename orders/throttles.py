"""Limits on placing orders, for the API (DRF throttles) and the storefront alike.

- per client IP: CHECKOUT_RATE_LIMIT (e.g. "60/minute"; empty turns it off, for benchmarks
  and soaks). Counted in the cache (Redis), so every web process shares the count. Behind a
  proxy, set NUM_PROXIES so the client's address is read from X-Forwarded-For.
- per e-mail address, failed payments: CHECKOUT_FAILED_PAYMENTS_LIMIT (e.g. "5/hour"). Card
  testing tries card after card; once an address has that many failed payments within the
  period, it may not place orders until the oldest of them ages out. When a payment fails,
  its time is added to the address's history in the cache (record_failed_payment), as DRF's
  own throttles keep theirs: a checkout reads one cache key, not the orders table.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

logger = logging.getLogger(__name__)


class CheckoutRateThrottle(SimpleRateThrottle):
    scope = "checkout"

    def get_rate(self):
        return settings.CHECKOUT_RATE_LIMIT or None  # None: no limit

    def allow_request(self, request, view):
        # A limit, not a gate: with the cache away, orders are taken (and the outage logged),
        # as they are with the broker away.
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            logger.warning("checkout rate limit not applied, the cache is unavailable: %r", exc)
            return True

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _failures_key(email):
    return "throttle:failed-payments:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _limit():
    return SimpleRateThrottle.parse_rate(None, settings.CHECKOUT_FAILED_PAYMENTS_LIMIT)


def record_failed_payment(email):
    """A payment of this address failed (called after the order's move to payment_failed
    commits). Best effort: the cache being away only loosens the limit."""
    if not settings.CHECKOUT_FAILED_PAYMENTS_LIMIT:
        return
    limit, period = _limit()
    try:
        now = time.time()
        history = [t for t in cache.get(_failures_key(email), []) if t > now - period][-limit:]
        cache.set(_failures_key(email), [*history, now], period)
    except Exception as exc:
        logger.warning("could not record a failed payment for the card-testing limit: %r", exc)


class FailedPaymentsThrottle(BaseThrottle):
    def __init__(self):
        self.seconds_left = None

    def allow_request(self, request, view):
        if not settings.CHECKOUT_FAILED_PAYMENTS_LIMIT:
            return True
        data = getattr(request, "data", None)
        if data is None:  # a Django request (the storefront)
            data = request.POST
        email = data.get("email") if hasattr(data, "get") else None
        if not isinstance(email, str) or not email.strip():
            return True  # validation will refuse it
        limit, period = _limit()
        now = time.time()
        try:
            history = [t for t in cache.get(_failures_key(email), []) if t > now - period]
        except Exception as exc:  # fails open, as CheckoutRateThrottle does
            logger.warning("card-testing limit not applied, the cache is unavailable: %r", exc)
            return True
        if len(history) < limit:
            return True
        self.seconds_left = max(1, int(history[-limit] + period - now) + 1)
        return False

    def wait(self):
        return self.seconds_left


class CardSetupRateThrottle(CheckoutRateThrottle):
    """The storefront's SetupIntents, per client IP: each one lets a browser try a card at
    Stripe, which is what card testers want most."""

    scope = "card_setup"


def throttled(request, throttles):
    """Seconds to wait if any of `throttles` refuses the request (a Django or DRF request), else None."""
    waits = [t.wait() or 60 for t in throttles if not t.allow_request(request, None)]
    return max(1, int(max(waits)) + 1) if waits else None
