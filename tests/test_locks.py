"""harbor.locks: SET NX PX with a token; only the holder releases it (real Redis)."""

import time
import uuid
from contextlib import ExitStack

from harbor.locks import lock, redis_client


def test_a_second_taker_is_refused_while_the_lock_is_held():
    name = f"lock:test:{uuid.uuid4()}"
    with lock(name, 5) as first:
        with lock(name, 5) as second:
            assert (first, second) == (True, False)
    with lock(name, 5) as third:
        assert third is True  # released on exit


def test_the_lock_expires_after_its_ttl():
    name = f"lock:test:{uuid.uuid4()}"
    with lock(name, 1) as held:
        assert held and 0 < redis_client().pttl(name) <= 1000


def test_an_expired_holder_does_not_release_the_next_holders_lock():
    name = f"lock:test:{uuid.uuid4()}"
    with ExitStack() as second_holder:
        with lock(name, 0.3) as first:
            assert first
            time.sleep(0.5)  # the first holder is paused past its TTL: its lock expired
            assert second_holder.enter_context(lock(name, 5)) is True
            seconds_token = redis_client().get(name)
        # The first holder's block has exited (it tried to release) while the second holds the lock.
        assert redis_client().get(name) == seconds_token
        with lock(name, 5) as third:
            assert third is False
    assert redis_client().get(name) is None  # the second released its own lock
