"""harbor.locks: SET NX PX with a token; only the holder releases it (real Redis)."""

import time
import uuid

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
    with lock(name, 1) as first:
        assert first
        time.sleep(1.2)  # first holder paused past its TTL
        with lock(name, 5) as second:
            assert second
        # the inner block released its own lock; now take it again and let the stale holder exit
        with lock(name, 5) as third:
            assert third
            token = redis_client().get(name)
    # Leaving the stale first block must not have deleted anything it did not own.
    assert redis_client().get(name) is None or redis_client().get(name) != token
