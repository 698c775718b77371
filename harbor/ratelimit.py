"""Sliding-window counts in Redis (the cache's server), shared by every web and worker process.

A window is a sorted set: one member per event (an id, so recording the same event twice
counts once), scored by its time. Adding, trimming and counting are one pipeline each, so two
processes recording at once both count (a read-modify-write list, as DRF's throttles keep,
can lose one of them).

A limit, not a gate: with Redis away, every count reads as zero and the caller lets the
request through (logged), as the checkout does with the broker away.
"""

import logging
import time

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """"5/hour" → (5, 3600), as DRF reads rates; "" or None → None (no limit)."""
    if not rate:
        return None
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


def _redis():
    from django.core.cache import cache  # here: settings.py imports this module for parse_rate

    return cache._cache.get_client(write=True)


def _name(key):
    from django.core.cache import cache

    return cache.make_key(key)


def record(key, member, period, now=None):
    """Count the event `member` under `key` for `period` seconds."""
    now = time.time() if now is None else now
    name = _name(key)
    try:
        with _redis().pipeline() as pipe:
            pipe.zadd(name, {str(member): now})
            pipe.zremrangebyscore(name, "-inf", now - period)
            pipe.expire(name, int(period) + 1)
            pipe.execute()
    except Exception as exc:
        logger.warning("could not count %s for a limit (the cache is unavailable): %r", key, exc)


def times(key, period, now=None):
    """The times of the events under `key` within the last `period` seconds, oldest first."""
    now = time.time() if now is None else now
    try:
        return [score for _, score in _redis().zrangebyscore(_name(key), now - period, "+inf",
                                                              withscores=True)]
    except Exception as exc:
        logger.warning("limit on %s not applied, the cache is unavailable: %r", key, exc)
        return []


def wait(key, limit, period, now=None):
    """Seconds until `key` is under `limit` events per `period` again; None if it is now."""
    now = time.time() if now is None else now
    seen = times(key, period, now)
    if len(seen) < limit:
        return None
    return max(1, int(seen[-limit] + period - now) + 1)
