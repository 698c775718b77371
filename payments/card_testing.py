"""Card testing: a fraudster checks stolen card numbers by placing small orders, card after
card. Failed payments are counted three ways (harbor.ratelimit, in Redis):

- per client (the checkout's client id: an IPv4 address or an IPv6 /64, hashed): past
  CHECKOUT_FAILED_PAYMENTS_LIMIT (default 5 an hour) that client may not place orders until the
  oldest failure ages out (orders/throttles.py). Never per e-mail address: anyone can type
  anyone's address, so counting by it would let a stranger lock a shopper out;
- per card (Stripe's card fingerprint, the same for one card number whatever the client):
  past CHECKOUT_FAILED_PAYMENTS_CARD_LIMIT (default 5 a day) the card is not charged at all
  (payments/charge.py cancels the intent before confirming it);
- shop-wide: past CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT (default 100 an hour) the shop is
  under attack (many clients, each under its own limit): both limits above drop to one
  failure, and the metric harbor_failed_payments_recent crosses harbor_failed_payments_ceiling,
  which raises the HarborCardTesting alert.

Only declines count (a refused card, a failed 3-D Secure check), not orders canceled before
payment. Each failure is counted once, by its payment's id.
"""

from django.conf import settings

from harbor import ratelimit

CLIENT, CARD, SHOP = "cardtest:client:", "cardtest:card:", "cardtest:shop"
UNDER_ATTACK_LIMIT = 1  # failures per client or card while the shop-wide ceiling is passed


def record_decline(payment_id, client, fingerprint):
    """A payment was declined: count it for its client, its card and the shop."""
    for key, rate in ((CLIENT + client if client else None, settings.CHECKOUT_FAILED_PAYMENTS_LIMIT),
                      (CARD + fingerprint if fingerprint else None, settings.CHECKOUT_FAILED_PAYMENTS_CARD_LIMIT),
                      (SHOP, settings.CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT)):
        parsed = ratelimit.parse_rate(rate)
        if key and parsed:
            ratelimit.record(key, payment_id, parsed[1])


def under_attack():
    """More declines shop-wide than the ceiling allows (in its period)."""
    parsed = ratelimit.parse_rate(settings.CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT)
    return bool(parsed) and ratelimit.wait(SHOP, *parsed) is not None


def recent_declines():
    """(declines in the shop-wide period, the ceiling), for the metrics; None without a ceiling."""
    parsed = ratelimit.parse_rate(settings.CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT)
    if not parsed:
        return None
    return len(ratelimit.times(SHOP, parsed[1])), parsed[0]


def _wait(key, rate):
    parsed = ratelimit.parse_rate(rate)
    if not parsed:
        return None
    limit, period = parsed
    # Most keys have no recent failure: then no limit, however low, applies, and the shop-wide
    # count (a second Redis round trip, on every charge and every checkout) need not be read.
    lowest = ratelimit.wait(key, min(limit, UNDER_ATTACK_LIMIT), period)
    if lowest is None or limit <= UNDER_ATTACK_LIMIT or under_attack():
        return lowest
    return ratelimit.wait(key, limit, period)


def client_wait(client):
    """Seconds this client must wait before placing another order; None if it may now."""
    return _wait(CLIENT + client, settings.CHECKOUT_FAILED_PAYMENTS_LIMIT) if client else None


def card_blocked(fingerprint):
    """Has this card failed too often recently to be tried again?"""
    return bool(fingerprint) and _wait(CARD + fingerprint, settings.CHECKOUT_FAILED_PAYMENTS_CARD_LIMIT) is not None
