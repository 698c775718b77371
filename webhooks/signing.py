"""The signature on every delivery, Stripe-style: `Harbor-Signature: t=<unix time>,v1=<hex>`,
where hex is HMAC-SHA256 with the subscriber's secret over "<t>.<raw body>". Signing the time
with the body lets a receiver refuse an old delivery replayed (docs/webhooks.md)."""

import hashlib
import hmac


def signature(secret, timestamp, body):
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header(secret, timestamp, body):
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret, header_value, body, now, tolerance=300):
    """What a receiver does (and the tests): True if the header signs `body` within `tolerance` s."""
    try:
        parts = dict(item.split("=", 1) for item in header_value.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(parts.get("v1", ""),
                                                                      signature(secret, timestamp, body))
