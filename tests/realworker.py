"""A real `celery -A harbor worker` process for end-to-end tests, on the test database."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from django.conf import settings
from django.db import connection

from harbor.brokers import is_amqp

QUEUES = ("payments", "fulfillment", "notifications", "webhooks")


def test_database_url():
    """DATABASE_URL with the database name swapped for pytest-django's test database."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


class Process:
    """A child process in its own session, its output in a log file."""

    def __init__(self, args, env, log_path, ready_text):
        self.args, self.env, self.log_path, self.ready_text = args, env, Path(log_path), ready_text
        self.process = None

    def start(self, timeout=60):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                        cwd=settings.BASE_DIR, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while self.ready_text.encode() not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.args[:4]} did not start:\n{self.tail()}")
            time.sleep(0.1)
        return self

    @property
    def pid(self):
        return self.process.pid

    def signal_group(self, sig):
        os.killpg(self.process.pid, sig)

    def stop(self, timeout=20):
        if self.process is None or self.process.poll() is not None:
            return
        self.signal_group(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            self.process.wait()

    def kill(self):
        """kill -9 the whole process group (main process and pool children)."""
        self.signal_group(signal.SIGKILL)
        self.process.wait()

    def tail(self, lines=80):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class Worker(Process):
    def __init__(self, log_path, env, concurrency=2, name="e2e", queues=QUEUES, pool="prefork"):
        args = [sys.executable, "-m", "celery", "-A", "harbor", "worker", "-Q", ",".join(queues),
                "--pool", pool, "--concurrency", str(concurrency), "--loglevel", "INFO", "--hostname", f"{name}@%h",
                "--without-gossip", "--without-mingle"]
        super().__init__(args, {**os.environ, "DATABASE_URL": test_database_url(), "CHECKOUT_RATE_LIMIT": "", **env},
                         log_path, "ready.")
        self.broker_url = self.env.get("CELERY_BROKER_URL") or settings.CELERY_BROKER_URL

    def settle(self, timeout=60):
        """settle() on this worker's broker: after it, nothing more can arrive (count then)."""
        return settle(timeout, broker_url=self.broker_url)


def wait_until_idle(timeout=60, broker_url=None):
    """Until no message waits in a queue and none is held unacknowledged by a worker.
    Redis: the queues' lists and kombu's `unacked` hash (which also holds the retries waiting
    out a countdown). RabbitMQ: ready messages (the retries' countdowns wait in the broker,
    in celery_delayed_*) and the deliveries consumers hold (tests/rabbit.py)."""
    broker_url = broker_url or settings.CELERY_BROKER_URL
    if is_amqp(broker_url):
        from tests import rabbit

        return rabbit.wait_idle(broker_url, timeout)
    client = redis.Redis.from_url(broker_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(client.llen(q) for q in QUEUES) and not client.hlen("unacked"):
            return True
        time.sleep(0.1)
    return False


def settle(timeout=60, broker_url=None, quiet=0.3):
    """Until nothing more can arrive: no message waits in a queue, none is held by a worker
    (running, or a retry waiting out its countdown, or a lock retry), and it stays so for
    `quiet` seconds (a message moving from a queue to a worker is briefly in neither count).
    Counting effects (e-mails at the SMTP sink, label files, events, charges) after this
    sees every late duplicate a retry or a redelivery could still bring."""
    broker_url = broker_url or settings.CELERY_BROKER_URL
    if is_amqp(broker_url):
        from tests import rabbit

        def idle():
            return rabbit.idle(broker_url)
    else:
        client = redis.Redis.from_url(broker_url)

        def idle():
            return not any(client.llen(q) for q in QUEUES) and not client.hlen("unacked")
    deadline = time.monotonic() + timeout
    idle_since = None
    while time.monotonic() < deadline:
        checked_at = time.monotonic()
        if not idle():
            idle_since = None
        elif idle_since is None:
            idle_since = checked_at
        elif checked_at - idle_since >= quiet:
            return True
        time.sleep(0.1)
    return False
