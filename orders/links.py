"""The link to an order's page that Harbor e-mails: signed, and good for as long as the order
exists.

`/orders/link/<token>/` (the order's page) and `/orders/link/<token>/return/` (its return form,
from the receipt), where the token is the order's short reference signed with the secret key
(Django's signing, HMAC-SHA256, salted for this use): "HB-10427:<signature>". It carries no
date, so it does not expire; it opens the order's page (`/orders/<id>/`) or its return form,
nothing else. A token someone changed or made up is refused like an unknown order. Rotating
DJANGO_SECRET_KEY revokes every link sent so far unless the old key is kept in
SECRET_KEY_FALLBACKS.

E-mails are sent by workers, without a request: the links start with SITE_URL.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from orders.models import Order

SALT = "harbor.orders.link"
REFERENCE_PREFIX = "HB-"


def token(order):
    return signing.Signer(salt=SALT).sign(order.reference)


def order_for(token_text):
    """The order the token names, or None (a bad signature, an unknown order)."""
    try:
        reference = signing.Signer(salt=SALT).unsign(token_text or "")
    except signing.BadSignature:
        return None
    number = number_of(reference)
    return Order.objects.filter(number=number).first() if number is not None else None


def number_of(reference):
    """"HB-10427", "hb-10427" or "10427" → 10427; anything else → None."""
    text = (reference or "").strip().upper()
    if text.startswith(REFERENCE_PREFIX):
        text = text[len(REFERENCE_PREFIX):]
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def path(order, page="storefront:order-link"):
    """The order's signed path: its page, or another page of the order that takes the token
    (`storefront:order-return`, the return form the receipt links to)."""
    return reverse(page, args=[token(order)])


def url(order, page="storefront:order-link"):
    """The absolute link for an e-mail."""
    return settings.SITE_URL.rstrip("/") + path(order, page)
