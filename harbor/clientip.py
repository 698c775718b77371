"""Who is asking: the one place every per-client limit learns the client's address.

Behind NUM_PROXIES trusted proxies, each of which appends the address it saw to
X-Forwarded-For, the client is the NUM_PROXIES-th address from the right: everything left
of it was written by the client itself and can say anything. With NUM_PROXIES=0 (no proxy)
the header is ignored and the client is REMOTE_ADDR. (DRF's own `NUM_PROXIES` reads `None`
as "the whole header", which made every forged header a fresh client: Harbor's limits do not
use DRF's get_ident.)

One IPv6 subscriber gets a whole /64 (2^64 addresses), so an IPv6 client is counted per /64;
an IPv4-mapped IPv6 address counts as its IPv4 address.
"""

import hashlib
import hmac
import ipaddress

from django.conf import settings


def client_ip(request):
    """The client's address as a string (a Django HttpRequest or a DRF Request)."""
    meta = request.META
    remote = meta.get("REMOTE_ADDR", "") or ""
    proxies = settings.NUM_PROXIES
    if proxies > 0:
        hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if hops:
            # Fewer entries than proxies: the request skipped a proxy; the leftmost one is the
            # farthest address a trusted proxy wrote.
            candidate = hops[-min(proxies, len(hops))]
            if _parse(candidate) is not None:
                return candidate
    return remote


def client_key(request):
    """What the limits count: the IPv4 address, or the IPv6 /64 ("" if unknown)."""
    address = _parse(client_ip(request))
    if address is None:
        return ""
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_id(request):
    """The client key as stored on an order: a keyed hash (HMAC-SHA256 with SECRET_KEY), so the
    database can count a client's orders without holding anyone's address."""
    key = client_key(request)
    if not key:
        return ""
    return hmac.new(settings.SECRET_KEY.encode(), key.encode(), hashlib.sha256).hexdigest()[:32]


def _parse(text):
    # Forms a proxy may write: "203.0.113.7", "[2001:db8::1]", "2001:db8::1%eth0"; a port
    # ("203.0.113.7:4711") is not an address and is refused rather than guessed at.
    text = (text or "").strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
