"""The catalog as shoppers and the API see it, cached in Redis and never stale after a change.

A cached value is stored with the catalog's version it was built from; every change to a
product or its stock bumps the version once its transaction commits (`changed()`), so the
next reader finds the versions differ and builds it afresh from the database. A reader that
built a value from data that was changing meanwhile stores it with the old version, which
no reader accepts. If Redis is away, the
value is built from the database every time (slower, never wrong); if a bump is lost with
Redis, a value is at most TTL seconds old.

Inside `pinned(scope)` (checkout's pricing), a process also remembers the values it read at the
pinned version, so a block pays one GET of the version and decodes nothing it has seen before.
"""

import contextlib
import contextvars
import logging
import time

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


def _fresh_version():
    """Where a version starts when Redis has none (first use, or Redis lost its data): the
    clock in microseconds, beyond any version counted before, so a value remembered in a
    process (pinned()) from before Redis lost the key can never match the new count."""
    return time.time_ns() // 1000


def _bump(scope=CATALOG):
    # SET NX then INCR, pipelined: one round trip (Django's cache.incr checks the key first:
    # two). A missing version starts again from the clock (_fresh_version), above every version
    # a stored or remembered value carries.
    key = cache.make_key(_version_key(scope))
    pipe = cache._cache.get_client(write=True).pipeline(transaction=False)
    pipe.set(key, _fresh_version(), nx=True)
    pipe.incr(key)
    pipe.execute()


# pinned(): the version of a scope read once for a block of code, and the values this process
# built or read at that version (JSON-decoded already). A checkout prices shipping and tax from
# the same version with one GET instead of an MGET of each, and decodes nothing.
_pinned = contextvars.ContextVar("catalog_cache_pinned", default={})
_remembered = {}  # (scope, name) -> (version, value); values are shared: callers never mutate them


@contextlib.contextmanager
def pinned(scope):
    """Within the block, cached(…, scope) serves the values of the version that `scope` had when
    the block began: one GET of the version, then the values this process remembers at that
    version, without a round trip. A change committed during the block is seen by the next
    block (as by a cached() call that began just before it). Redis away: no pin, cached() as usual."""
    try:
        version = cache.get(_version_key(scope))
    except Exception:
        version = None
    if version is None:
        yield
        return
    token = _pinned.set({**_pinned.get(), scope: int(version)})
    try:
        yield
    finally:
        _pinned.reset(token)


def cached(name, build, scope=CATALOG):
    """build() once per version of `scope`, shared by every web process: one MGET of the
    version and the stored (version, value) pair when it is fresh. Values are JSON."""
    version_key = _version_key(scope)
    pin = _pinned.get().get(scope)
    if pin is not None:
        remembered = _remembered.get((scope, name))
        if remembered is not None and remembered[0] == pin:
            return remembered[1]
    try:
        found = cache.get_many([version_key, name])
        version, stored = found.get(version_key), found.get(name)
        if version is not None and stored is not None and stored[0] == int(version):
            _remember(scope, name, int(version), stored[1], pin)
            return stored[1]
        if version is None:
            cache.add(version_key, _fresh_version(), timeout=None)
            version = cache.get(version_key, 0)
        value = build()
        cache.set(name, (int(version), value), TTL)
        _remember(scope, name, int(version), value, pin)
        return value
    except Exception as exc:  # Redis down: serve from the database
        logger.warning("catalog cache unavailable (%r): building %s from the database", exc, name)
        return build()


def _remember(scope, name, version, value, pin):
    """Keep a value for pinned blocks, only when it is of the pinned version: a value of a
    newer version is kept by the next block that pins it."""
    if pin is not None and version == pin:
        _remembered[(scope, name)] = (version, value)
