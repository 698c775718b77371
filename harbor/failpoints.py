"""Failpoints: named places where a fault test can make this very process misbehave
(die with SIGKILL, stop itself, sleep, or raise an unexpected error) at an exact step of a
real task.

Off unless HARBOR_FAILPOINTS=1, which settings refuse with ENVIRONMENT=prod. A test arms a
failpoint for one order in Redis; each hit pops one action (an action ending in `*` is
never used up) and records the hitting pid, so the test can tell when it happened.
"""

import logging
import os
import signal
import time

import redis
from django.conf import settings

logger = logging.getLogger(__name__)


class FailpointError(RuntimeError):
    """The "raise" action: an error no task expects (not transient, so never retried)."""


def _key(name, order_id):
    return f"failpoint:{name}:{order_id}"  # order_id "any": every order


def arm(client, name, order_id, action, times=1):
    """Test side: make the next `times` hits of `name` for this order do `action`
    ("kill", "stop", "sleep:<seconds>", "raise"); `times=None` means every hit."""
    key = _key(name, order_id)
    client.delete(key)
    if times is None:
        client.rpush(key, action + "*")
    else:
        client.rpush(key, *[action] * times)


def disarm(client, name, order_id):
    client.delete(_key(name, order_id))


def hits(client, name, order_id):
    return [int(pid) for pid in client.lrange(_key(name, order_id) + ":hits", 0, -1)]


def hit(name, order_id):
    if not settings.FAILPOINTS:
        return
    from harbor.locks import redis_client

    try:
        client = redis_client()
        for key in (_key(name, order_id), _key(name, "any")):
            action = client.lindex(key, 0)
            if action is not None:
                break
        else:
            return
        action = action.decode()
        if not action.endswith("*"):
            client.lpop(key)
        client.rpush(key + ":hits", os.getpid())
    except redis.RedisError:  # a failpoint must never add a failure of its own
        return
    action = action.rstrip("*")
    logger.warning("failpoint %s for order %s: %s (pid %s)", name, order_id, action, os.getpid())
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
    elif action.startswith("sleep:"):
        time.sleep(float(action.split(":", 1)[1]))
    elif action == "raise":
        raise FailpointError(f"failpoint {name} for order {order_id}")
