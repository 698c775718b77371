"""A real `celery -A harbor worker` process for end-to-end tests, on the test database."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
from django.conf import settings
from django.db import connection

QUEUES = ("payments", "fulfillment", "notifications")


def test_database_url():
    """DATABASE_URL with the database name swapped for pytest-django's test database."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


class Worker:
    def __init__(self, log_path, env, concurrency=2, name="e2e"):
        self.log_path = Path(log_path)
        self.env = {**os.environ, "DATABASE_URL": test_database_url(), **env}
        self.concurrency = concurrency
        self.name = name
        self.process = None

    def start(self, timeout=60):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "harbor", "worker", "-Q", ",".join(QUEUES),
             "--concurrency", str(self.concurrency), "--loglevel", "INFO", "--hostname", f"{self.name}@%h",
             "--without-gossip", "--without-mingle"],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env, cwd=settings.BASE_DIR, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while b"ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start:\n{self.tail()}")
            time.sleep(0.1)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.log.close()

    def tail(self, lines=60):
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def wait_until_idle(timeout=60):
    """Until no message waits in a queue and none is held unacknowledged by a worker."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(client.llen(q) for q in QUEUES) and not client.hlen("unacked"):
            return True
        time.sleep(0.1)
    return False
