"""The lock helper: a Redis lock that saves duplicate work, never a correctness guarantee.

redis-py's Lock is `SET <name> <token> NX PX <ttl>`, released by a Lua compare-and-
delete so that only the holder can release it. If the holder outlives the TTL, another
run may take the lock: that is safe because every effect is fenced in PostgreSQL
(conditional status UPDATEs, unique rows), and the TTL is longer than the task time
limit (see harbor/settings.py), so a live holder is normally killed before it expires.
"""

import logging
from contextlib import contextmanager
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


@cache
def redis_client():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


@contextmanager
def lock(name, ttl_seconds):
    """Yield True if this process holds `name` for the block, False if someone else does."""
    held = redis_client().lock(name, timeout=ttl_seconds, blocking=False, thread_local=False)
    if not held.acquire():
        yield False
        return
    try:
        yield True
    finally:
        try:
            held.release()
        except redis.exceptions.LockError:
            logger.warning("lock %s expired before its holder released it", name)


def _order_key(order_id):
    return f"lock:order:{order_id}"


def order_lock(order_id):
    return lock(_order_key(order_id), settings.ORDER_LOCK_TTL)


def lock_ttl_left(order_id):
    """Seconds until the order's lock expires (0 if it is free)."""
    return max(redis_client().pttl(_order_key(order_id)), 0) / 1000
