"""A lease in Redis: at most one holder at a time, lost by a holder that stops renewing it.

Celery Beat runs on two hosts (harbor/beat.py); only the holder of the lease sends. The
lease is a key holding the holder's token with a TTL: taken with SET NX PX, renewed every
TTL/3 only while the key still holds our token (compare-and-extend in one Lua script, so a
holder whose lease lapsed and was taken by another can never extend the other's), released
the same way on a clean shutdown. A holder that dies stops renewing: within TTL the key
expires, and a standby polling every TTL/3 takes it within TTL + TTL/3 of the death.

The holder counts its lease from just *before* the request that took or renewed it (the key
expires TTL after Redis ran the command, which is later), and trusts it for TTL/3 only, so
it stops sending well before Redis could give the lease to another. When Redis cannot be
reached the lease counts as lost at once: nobody sends until Redis is back, which costs
reconciliation a delay, never a double run.
"""

import logging
import os
import socket
import time
import uuid

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger("harbor.beat")

# KEYS[1] the lease, ARGV[1] our token, ARGV[2] the TTL in ms: extend only if still ours.
RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def check_timing(*, ttl, reconcile_interval):
    """BEAT_LEASE_TTL against the rest of the timing rule. The lease decides only who *sends*
    the periodic tasks; what a sent task does is bounded by soft limit < time limit < order
    lock TTL < visibility timeout and made exactly-once by PostgreSQL, whoever sent it. So the
    lease needs no place inside that chain, only these bounds:
      - TTL ≥ 3 s: renewed every TTL/3 ≥ 1 s, with each Redis call bounded to TTL/6, so a slow
        renewal fails while two thirds of the lease are left;
      - a standby takes over within TTL + TTL/3, which must be shorter than RECONCILE_INTERVAL:
        losing Beat's host then delays reconciliation by less than one of its runs.
    A duplicate send is still possible if the holder stalls longer than the TTL in the middle
    of a tick (a frozen VM): it means one extra reconciliation run, harmless because
    reconciliation is idempotent (each order under its lock, each move a conditional UPDATE);
    the lease is what keeps that the exception rather than every tick."""
    if ttl < 3:
        raise ImproperlyConfigured("BEAT_LEASE_TTL must be at least 3 seconds (renewed every TTL/3)")
    if not ttl + ttl / 3 < reconcile_interval:
        raise ImproperlyConfigured(f"Need BEAT_LEASE_TTL + BEAT_LEASE_TTL/3 ({ttl + ttl / 3:g} s, the longest "
                                   f"Beat failover) < RECONCILE_INTERVAL ({reconcile_interval} s)")


class Lease:
    """hold() → True while this process holds the lease (taking or renewing it as due)."""

    def __init__(self, url, key, ttl, *, token=None, clock=time.monotonic):
        self.key, self.ttl, self.clock = key, float(ttl), clock
        self.token = token or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        timeout = self.ttl / 6
        # No retries inside a call (redis-py retries three times by default): a Redis that does
        # not answer costs a tick TTL/6, and the next tick asks again anyway.
        self.redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                          retry=Retry(NoBackoff(), 0))
        self._renew, self._release = self.redis.register_script(RENEW), self.redis.register_script(RELEASE)
        self.held = False
        self.trusted_until = 0.0  # monotonic: renew (or give up) no later than this
        self.problem = None  # the last Redis error, logged once per outage
        self.standing_by = False  # "standing by" logged once per stretch without the lease

    @property
    def renew_interval(self):
        return self.ttl / 3

    def hold(self):
        now = self.clock()
        if self.held and now < self.trusted_until:
            return True
        ttl_ms = int(self.ttl * 1000)
        try:
            ours = self.held and bool(self._renew(keys=[self.key], args=[self.token, ttl_ms]))
            # Not held, or the renewal found the key expired or another's: take it if free.
            ours = ours or bool(self.redis.set(self.key, self.token, nx=True, px=ttl_ms))
        except redis.RedisError as exc:
            if self.problem is None or self.held:
                logger.warning("beat lease: Redis unreachable, sending nothing until it is back: %s", exc)
            self.problem = exc
            ours = False
        else:
            if self.problem is not None:
                logger.info("beat lease: Redis reachable again")
                self.problem = None
        if ours and not self.held:
            logger.warning("beat lease acquired by %s (ttl %g s): this Beat sends the periodic tasks",
                           self.token, self.ttl)
        elif self.held and not ours:
            logger.warning("beat lease lost by %s: this Beat sends nothing until it holds the lease again",
                           self.token)
        elif not ours and not self.standing_by and self.problem is None:
            logger.info("beat lease held by another Beat (%s): %s stands by, polling every %g s",
                        self._holder_or_none(), self.token, self.renew_interval)
        self.standing_by = not ours
        self.held = ours
        self.trusted_until = now + self.renew_interval if ours else 0.0
        return ours

    def holder(self):
        value = self.redis.get(self.key)
        return value.decode() if value is not None else None

    def _holder_or_none(self):
        try:
            return self.holder()
        except redis.RedisError:
            return None

    def release(self):
        """On a clean shutdown: a standby can take over at its next poll instead of after TTL."""
        if not self.held:
            return
        self.held, self.trusted_until = False, 0.0
        try:
            if self._release(keys=[self.key], args=[self.token]):
                logger.warning("beat lease released by %s", self.token)
        except redis.RedisError as exc:
            logger.warning("beat lease: could not release (it expires within %g s): %s", self.ttl, exc)
