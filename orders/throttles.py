"""Limits on placing orders, for the API (DRF throttles) and the storefront alike. Every limit
counts a client as harbor.clientip sees it (REMOTE_ADDR, or the NUM_PROXIES-th address from the
right of X-Forwarded-For behind trusted proxies; an IPv6 client per /64):

- CHECKOUT_RATE_LIMIT orders per client (default "60/minute"; empty turns it off, for
  benchmarks and soaks), counted in the cache (Redis), so every web process shares the count;
- CHECKOUT_FAILED_PAYMENTS_LIMIT failed payments per client (default "5/hour"): card testing
  (payments/card_testing.py, which also limits per card and shop-wide);
- CHECKOUT_CARD_SETUP_LIMIT SetupIntents per client (default "20/hour"): each one lets a
  browser try a card at Stripe, which is what card testers want most;
- CHECKOUT_UNPAID_LIMIT orders awaiting payment per client at once (orders/checkout.py:
  counted in PostgreSQL, in the checkout's transaction);
- SHOPPER_RETURN_LIMIT posts per client to an order's "I have authenticated" endpoint.
"""

import logging

from django.conf import settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from harbor.clientip import client_id, client_key
from payments import card_testing

logger = logging.getLogger(__name__)


class ClientRateThrottle(SimpleRateThrottle):
    """DRF's rate throttle, per client as harbor.clientip counts them, failing open without
    the cache (with the cache away, orders are taken, and the outage logged, as they are with
    the broker away)."""

    setting = None  # the name of the Django setting holding the rate ("" or None: no limit)

    def get_rate(self):
        return getattr(settings, self.setting) or None

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except Exception as exc:
            logger.warning("%s not applied, the cache is unavailable: %r", self.setting, exc)
            return True

    def get_ident(self, request):
        return client_key(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class CheckoutRateThrottle(ClientRateThrottle):
    scope = "checkout"
    setting = "CHECKOUT_RATE_LIMIT"


class CardSetupRateThrottle(ClientRateThrottle):
    """The storefront's SetupIntents."""

    scope = "card_setup"
    setting = "CHECKOUT_CARD_SETUP_LIMIT"


class ShopperReturnThrottle(ClientRateThrottle):
    """POST /orders/<id>/authenticated/: each one may send fulfill_order."""

    scope = "shopper_return"
    setting = "SHOPPER_RETURN_LIMIT"


class FailedPaymentsThrottle(BaseThrottle):
    """A client with too many declined payments waits (payments/card_testing.py)."""

    def __init__(self):
        self.seconds_left = None

    def allow_request(self, request, view):
        self.seconds_left = card_testing.client_wait(client_id(request))
        return self.seconds_left is None

    def wait(self):
        return self.seconds_left


def throttled(request, throttles):
    """Seconds to wait if any of `throttles` refuses the request (a Django or DRF request), else None."""
    waits = [t.wait() or 60 for t in throttles if not t.allow_request(request, None)]
    return max(1, int(max(waits)) + 1) if waits else None
