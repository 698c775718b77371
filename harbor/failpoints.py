"""Failpoints: named places where a fault test can make this very process misbehave
(die with SIGKILL, stop itself, sleep, wait to be released, or raise an unexpected error)
at an exact step of a real task.

Off unless HARBOR_FAILPOINTS=1, which settings refuse with ENVIRONMENT=prod. A test arms a
failpoint for one order in Redis; each hit pops one action (an action ending in `*` is
never used up) and records the hitting pid and order, so the test can tell when it
happened, in which process, for which order, and prove that it did.
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


def _log_key(name):
    return f"failpoint:{name}:log"


def _release_key(name):
    return f"failpoint:{name}:release"


def arm(client, name, order_id, action, times=1):
    """Test side: make the next `times` hits of `name` for this order do `action`
    ("kill", "stop", "sleep:<seconds>", "wait:<seconds>", "note", "raise"); `times=None`
    means every hit. "wait" blocks the hitting process until the test calls release() (or
    the seconds run out): a deterministic pause, where "sleep" only hopes the test is quick
    enough. "note" does nothing but record the hit."""
    key = _key(name, order_id)
    client.delete(key, _release_key(name))
    if times is None:
        client.rpush(key, action + "*")
    else:
        client.rpush(key, *[action] * times)


def disarm(client, name, order_id):
    client.delete(_key(name, order_id))


def release(client, name, times=1):
    """Let `times` processes waiting at `name` (action "wait") go on, now or when they get there."""
    client.rpush(_release_key(name), *["go"] * times)


def hits(client, name, order_id):
    """The pids that hit an armed `name` for `order_id` (or, for "any", for every order)."""
    return [int(pid) for pid in client.lrange(_key(name, order_id) + ":hits", 0, -1)]


def hit_log(client, name):
    """[(pid, order id)] of every hit of an armed `name`, in order, whichever way it was armed."""
    entries = (entry.decode().split(" ", 1) for entry in client.lrange(_log_key(name), 0, -1))
    return [(int(pid), order_id) for pid, order_id in entries]


def forget(client, name):
    """Forget `name`'s recorded hits (before a test arms it; failpoints live in the stack's Redis)."""
    client.delete(_log_key(name), _key(name, "any") + ":hits", _release_key(name))


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
        client.rpush(_log_key(name), f"{os.getpid()} {order_id}")
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
    elif action.startswith("wait:"):
        _wait_for_release(client, name, float(action.split(":", 1)[1]))
    elif action == "raise":
        raise FailpointError(f"failpoint {name} for order {order_id}")


def _wait_for_release(client, name, seconds):
    # Short BLPOPs: the shared client has a 5 s socket timeout, and a process frozen by
    # SIGSTOP meanwhile (tests do that) must find its release as soon as it wakes.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if client.blpop([_release_key(name)], timeout=1):
                return
        except redis.RedisError:
            time.sleep(0.1)
    logger.warning("failpoint %s: never released, going on after %ss", name, seconds)
