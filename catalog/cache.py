"""The catalog as shoppers and the API see it, cached in Redis and never stale after a change.

A cached value is stored with the catalog's version it was built from; every change to a
product or its stock bumps the version once its transaction commits (`changed()`), so the
next reader finds the versions differ and builds it afresh from the database. A reader that
built a value from data that was changing meanwhile stores it with the old version, which
no reader accepts. If Redis is away, the
value is built from the database every time (slower, never wrong); if a bump is lost with
Redis, a value is at most TTL seconds old.
"""

import logging

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
VERSION_KEY = "catalog:version"
TTL = 300

# Each scope has a version of its own: the catalog's moves with every sale (stock), the
# pricing configuration's (shipping methods, tax rates) only when ops edit it, so a checkout
# does not throw away the pricing it will need next.
CATALOG = "catalog"
PRICING = "pricing"  # shipping zones, methods and brackets, tax rates (shipping.rates, tax.calculation)


def _version_key(scope):
    return f"{scope}:version"


def changed(scope=CATALOG):
    """`scope` changed (in the current transaction, if any): readers rebuild after commit."""
    transaction.on_commit(lambda: _bump(scope), robust=True)


def _bump(scope=CATALOG):
    # One INCR (Django's cache.incr checks the key first: two round trips). A missing version
    # starts again at 1, which differs from what any stored value carries (see cached()).
    cache._cache.get_client(write=True).incr(cache.make_key(_version_key(scope)))


def cached(name, build, scope=CATALOG):
    """build() once per version of `scope`, shared by every web process: one MGET of the
    version and the stored (version, value) pair when it is fresh. Values are JSON."""
    version_key = _version_key(scope)
    try:
        found = cache.get_many([version_key, name])
        version, stored = found.get(version_key), found.get(name)
        if version is not None and stored is not None and stored[0] == int(version):
            return stored[1]
        if version is None:
            cache.add(version_key, 0, timeout=None)
            version = cache.get(version_key, 0)
        value = build()
        cache.set(name, (int(version), value), TTL)
        return value
    except Exception as exc:  # Redis down: serve from the database
        logger.warning("catalog cache unavailable (%r): building %s from the database", exc, name)
        return build()
