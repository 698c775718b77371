"""Signed links: a URL that does one thing for one order, handed out in an e-mail (the receipt's
"Return items" link). The signature (SECRET_KEY, and a salt per purpose) says Harbor wrote it;
it does not expire by itself: what it opens checks its own rules (a return, its window).
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse


def _signer(purpose):
    return signing.Signer(salt=f"harbor.links.{purpose}")


def token(order_id, purpose):
    """The token for `purpose` on one order (the signature part only: the order id is in the URL)."""
    return _signer(purpose).sign(str(order_id)).rsplit(":", 1)[1]


def valid(order_id, value, purpose):
    try:
        _signer(purpose).unsign(f"{order_id}:{value}")
    except signing.BadSignature:
        return False
    return True


def absolute(path):
    """The shop's public address for `path` (SHOP_URL: the URL in e-mails)."""
    return settings.SHOP_URL.rstrip("/") + path


def signed_url(urlname, order_id, purpose):
    """The absolute, signed URL of the page `urlname` (which takes the order id) for `purpose`."""
    return absolute(reverse(urlname, args=[order_id]) + f"?t={token(order_id, purpose)}")
