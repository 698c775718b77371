"""Beat may run on two hosts: a lease in Redis (harbor/lease.py, harbor/beat.py) lets only its
holder send. Two real `celery -A harbor beat -S django` processes share one Redis: only the
holder sends reconciliation; SIGKILL it and the other holds the lease within TTL + TTL/3 and
keeps reconciliation coming; a clean stop hands over at the standby's next poll; a Beat that
cannot reach Redis stays up and sends nothing. Below them, the lease itself: acquired by one,
renewed every TTL/3 only while it is still ours, lost, released, and Redis down."""

import json
import logging
import os
import re
import secrets
import signal
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from harbor.devservices.base import free_port
from harbor.lease import Lease
from orders.schedules import RECONCILE
from tests.conftest import eventually
from tests import realworker

TTL = 3  # seconds: renewed every second, a standby polls every second


@pytest.fixture
def key():
    """A lease key of this test's own on the session's Redis."""
    name = f"test:beat-lease:{secrets.token_hex(4)}"
    yield name
    redis.Redis.from_url(settings.REDIS_URL).delete(name)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


# --- The lease ----------------------------------------------------------------------------

def test_the_first_to_ask_holds_the_lease_and_the_other_stands_by(key):
    first, second = Lease(settings.REDIS_URL, key, TTL), Lease(settings.REDIS_URL, key, TTL)

    assert first.hold() and not second.hold()
    assert first.holder() == first.token and first.token != second.token
    assert 0 < first.redis.pttl(key) <= TTL * 1000


def test_the_holder_renews_its_lease_every_third_of_the_ttl(key):
    clock = Clock()
    lease = Lease(settings.REDIS_URL, key, TTL, clock=clock)
    assert lease.hold()
    lease.redis.pexpire(key, 1500)  # as if the last renewal were 1.5 s ago

    clock.now += TTL / 3 - 0.01
    assert lease.hold() and lease.redis.pttl(key) <= 1500  # trusted for TTL/3: no call to Redis yet
    clock.now += 0.02
    assert lease.hold() and lease.redis.pttl(key) > 2500  # renewed: TTL again
    assert lease.holder() == lease.token


def test_a_holder_whose_lease_went_to_another_cannot_renew_it(key, caplog):
    clock = Clock()
    lost, other = Lease(settings.REDIS_URL, key, TTL, clock=clock), Lease(settings.REDIS_URL, key, TTL)
    assert lost.hold()
    lost.redis.delete(key)  # it expired while the holder was stalled...
    assert other.hold()  # ...and the standby took it
    lost.redis.pexpire(key, 2000)

    clock.now += TTL / 3
    with caplog.at_level(logging.INFO, logger="harbor.beat"):
        assert not lost.hold()

    assert lost.holder() == other.token and lost.redis.pttl(key) <= 2000  # neither taken nor extended
    assert f"beat lease lost by {lost.token}" in caplog.text


def test_a_holder_whose_lease_expired_unclaimed_takes_it_again(key):
    clock = Clock()
    lease = Lease(settings.REDIS_URL, key, TTL, clock=clock)
    assert lease.hold()
    lease.redis.delete(key)
    clock.now += TTL / 3
    assert lease.hold() and lease.holder() == lease.token


def test_release_hands_over_only_our_own_lease(key):
    holder, standby = Lease(settings.REDIS_URL, key, TTL), Lease(settings.REDIS_URL, key, TTL)
    assert holder.hold() and not standby.hold()
    standby.held = True  # a confused standby releasing...
    standby.release()
    assert holder.holder() == holder.token  # ...releases nothing of the holder's
    holder.release()
    assert holder.holder() is None and standby.hold()


def test_redis_down_means_not_holding_and_no_exception(key, caplog):
    down = Lease(f"redis://127.0.0.1:{free_port()}/0", key, TTL)
    with caplog.at_level(logging.INFO, logger="harbor.beat"):
        assert not down.hold() and not down.hold()
    assert caplog.text.count("Redis unreachable") == 1  # once per outage, not once per poll


def test_a_holder_that_loses_redis_stops_holding_at_once(key, monkeypatch, caplog):
    clock = Clock()
    lease = Lease(settings.REDIS_URL, key, TTL, clock=clock)
    assert lease.hold()

    def unreachable(*args, **kwargs):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(lease, "_renew", unreachable)
    clock.now += TTL / 3
    with caplog.at_level(logging.INFO, logger="harbor.beat"):
        assert not lease.hold()
    assert "Redis unreachable" in caplog.text and f"beat lease lost by {lease.token}" in caplog.text


@pytest.mark.parametrize("ttl, reconcile_interval, problem", [
    (2, 300, "at least 3 seconds"),
    (30, 40, "BEAT_LEASE_TTL + BEAT_LEASE_TTL/3 (40 s, the longest Beat failover) < RECONCILE_INTERVAL (40 s)"),
])
def test_a_lease_longer_than_a_reconciliation_interval_refuses_to_start(ttl, reconcile_interval, problem):
    from django.core.exceptions import ImproperlyConfigured

    from harbor.lease import check_timing

    check_timing(ttl=30, reconcile_interval=300)  # the defaults: failover 40 s < 300 s
    with pytest.raises(ImproperlyConfigured, match=re.escape(problem)):
        check_timing(ttl=ttl, reconcile_interval=reconcile_interval)


def test_the_default_lease_is_30_seconds():
    assert "BEAT_LEASE_TTL" not in os.environ and settings.BEAT_LEASE_TTL == 30
    assert settings.CELERY_BEAT_SCHEDULER == "harbor.beat:LeasedScheduler"


# --- The scheduler ------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)  # the scheduler commits and closes connections itself
def test_the_scheduler_sends_nothing_without_the_lease_and_polls_every_third_of_the_ttl(key, settings):
    from harbor.beat import LeasedScheduler
    from harbor.celery import app

    settings.BEAT_LEASE_KEY, settings.BEAT_LEASE_TTL = key, TTL
    call_command("setup_periodic_tasks", reconcile_interval=1, stdout=open(os.devnull, "w"))
    sent = []
    scheduler = LeasedScheduler(app=app)
    scheduler.apply_entry = lambda entry, producer=None: sent.append(entry.task)
    other = Lease(settings.REDIS_URL, key, TTL)
    assert other.hold()

    time.sleep(1.1)  # reconciliation is due
    assert scheduler.tick() == TTL / 3 and sent == []

    other.release()
    deadline = time.monotonic() + 5
    while RECONCILE not in sent and time.monotonic() < deadline:
        assert 0 <= scheduler.tick() <= TTL / 3  # never sleeps past the next renewal
    assert RECONCILE in sent and scheduler.lease.holder() == scheduler.lease.token
    scheduler.close()
    assert scheduler.lease.holder() is None  # a clean stop releases the lease


def test_dash_s_django_runs_the_leased_scheduler():
    """`celery -A harbor beat -S django` (the contract's command line) names django-celery-beat's
    DatabaseScheduler; Harbor's Beat runs its leased subclass for that name."""
    from harbor.celery import app

    for name in ("django", "django_celery_beat.schedulers:DatabaseScheduler", None):
        beat = app.Beat(scheduler=name, quiet=True)
        service = beat.Service(app=app, scheduler_cls=beat.scheduler_cls)
        assert service.scheduler_cls == "harbor.beat:LeasedScheduler", name


# --- Two real Beats -----------------------------------------------------------------------

SENT = "Sending due task Reconcile stuck orders"


@pytest.fixture
def two_hosts(transactional_db, tmp_path, key):
    """Start Beats as on two hosts: the same database and Redis, the contract's command line.
    Their broker is a Redis database of their own, where no worker consumes: what they send
    stays there to be counted."""
    parts = urlsplit(settings.REDIS_URL)
    broker_url = urlunsplit(parts._replace(path="/9"))
    broker = redis.Redis.from_url(broker_url)
    broker.flushdb()
    call_command("setup_periodic_tasks", reconcile_interval=1, stdout=open(os.devnull, "w"))
    started = []

    def beat(name, **env):
        args = [sys.executable, "-m", "celery", "-A", "harbor", "beat", "-S", "django", "--loglevel", "INFO",
                "--pidfile="]
        env = {**os.environ, "DATABASE_URL": realworker.test_database_url(), "CELERY_BROKER_URL": broker_url,
               "BEAT_LEASE_TTL": str(TTL), "BEAT_LEASE_KEY": key, "LOG_JSON": "0", **env}
        process = realworker.Process(args, env, tmp_path / f"{name}.log", "beat: Starting")
        started.append(process)
        return process.start()

    yield beat, broker
    for process in started:
        process.stop()
    broker.flushdb()


def sent_reconciliations(broker):
    """Reconciliation messages in the payments queue of the Beats' broker."""
    return sum(1 for raw in broker.lrange("payments", 0, -1) if json.loads(raw)["headers"]["task"] == RECONCILE)


def token_of(process, lease):
    holder = lease.holder() or ""
    return holder if holder.split(":")[1:2] == [str(process.pid)] else None


def test_of_two_beats_only_the_holder_sends_and_the_standby_takes_over_when_its_host_dies(two_hosts, key):
    beat, broker = two_hosts
    watch = Lease(settings.REDIS_URL, key, TTL)
    first = beat("beat-a")
    assert eventually(lambda: token_of(first, watch), timeout=TTL * 2), first.tail()
    second = beat("beat-b")

    # Two lease periods and more: the holder renews, the standby never gets the lease.
    holders, deadline = set(), time.monotonic() + 2 * TTL + 1
    while time.monotonic() < deadline:
        holders.add(watch.holder())
        time.sleep(0.05)
    assert holders == {token_of(first, watch)}, "the lease changed hands while its holder was alive"
    assert first.log_path.read_text().count(SENT) >= 2 * TTL  # every second
    assert SENT not in second.log_path.read_text(), second.tail()
    assert "stands by" in second.log_path.read_text()
    queued = sent_reconciliations(broker)  # (each is logged just before it is published)
    assert 2 * TTL - 1 <= queued <= first.log_path.read_text().count(SENT)  # all of them the holder's

    # The holder's host is lost: every process in it killed, no clean stop, no release.
    first.kill()
    lost_at = time.monotonic()
    assert eventually(lambda: token_of(second, watch), timeout=TTL * 3), second.tail()
    took = time.monotonic() - lost_at
    assert took <= TTL + TTL / 3 + 0.5, f"the standby took {took:.1f} s to take over"
    assert "beat lease acquired" in second.log_path.read_text()

    # Reconciliation keeps being sent, by the new holder alone.
    before = sent_reconciliations(broker)
    assert eventually(lambda: second.log_path.read_text().count(SENT) >= 2, timeout=5), second.tail()
    assert eventually(lambda: sent_reconciliations(broker) >= before + 2, timeout=2)


def test_a_beat_that_stops_cleanly_hands_the_lease_over_at_once(two_hosts, key):
    beat, _broker = two_hosts
    watch = Lease(settings.REDIS_URL, key, TTL)
    first = beat("beat-a")
    assert eventually(lambda: token_of(first, watch), timeout=TTL * 2), first.tail()
    second = beat("beat-b")
    assert eventually(lambda: "stands by" in second.log_path.read_text(), timeout=TTL * 2), second.tail()

    first.process.send_signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    assert eventually(lambda: token_of(second, watch), timeout=TTL * 2), second.tail()
    assert time.monotonic() - stopped_at <= TTL / 3 + 1  # its next poll, not the TTL
    assert eventually(lambda: "beat lease released" in first.log_path.read_text(), timeout=5), first.tail()


def test_a_beat_that_cannot_reach_redis_stays_up_and_sends_nothing(two_hosts):
    beat, broker = two_hosts
    cut_off = beat("beat-cut-off", REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    time.sleep(2 * TTL)
    assert cut_off.process.poll() is None, cut_off.tail()
    log = cut_off.log_path.read_text()
    assert "Redis unreachable" in log and SENT not in log
    assert sent_reconciliations(broker) == 0
