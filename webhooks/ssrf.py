"""No SSRF: in production a subscriber's URL must be https and resolve only to public addresses.

A subscriber URL is typed by staff, but the shop's workers POST to it from inside the network,
so an internal address (the database host, a cloud metadata endpoint at 169.254.169.254, an
admin port on loopback) would turn the webhooks into a way to reach them. The check runs when
the subscriber is saved and again before every delivery, because DNS can change between the
two (a name that resolved to a public address can be repointed at 10.0.0.5). Redirects are not
followed (webhooks/services.py), so a public receiver cannot bounce a delivery inward.
With ENVIRONMENT=dev anything goes: a developer's receiver is on localhost.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

# Cloud metadata endpoints that are not covered by "link-local" (AWS's IPv6 one, Alibaba's).
METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}


class Refused(Exception):
    pass


def refused_address(address):
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (ip in METADATA or ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
            or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def check(url, prod=None, resolve=None):
    """Raise Refused (saying why) unless `url` may receive deliveries."""
    prod = settings.IS_PROD if prod is None else prod
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("the URL must be http(s)://host/...")
    if not prod:
        return
    if parts.scheme != "https":
        raise Refused("in production a webhook URL must use https")
    resolve = resolve or socket.getaddrinfo
    try:
        addresses = {info[4][0] for info in resolve(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"{parts.hostname} does not resolve ({exc})") from None
    bad = sorted(a for a in addresses if refused_address(a.split("%", 1)[0]))
    if bad:
        raise Refused(f"{parts.hostname} resolves to a non-public address ({', '.join(bad)})")
