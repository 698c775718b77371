"""The real RabbitMQ for the tests: a vhost of their own, and what Redis commands do elsewhere.

The broker at RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672//) is shared, so a
test session never restarts it nor touches another vhost: it creates `harbor-test-<random>`
(`rabbitmqctl add_vhost` + `set_permissions`), runs `manage.py setup_rabbitmq` there (the
quorum queues, harbor.dlx → dead_letters, the harbor-dlx policy), empties the queues between
tests, and deletes the vhost at the end. `rabbitmqctl` must manage that broker (it runs on
this host); the management plugin is not needed. RABBITMQ_URL may be a cluster's `;` list of
its nodes' URLs (the vhost is then the same on every node).

Queue depths: a passive queue_declare gives a queue's ready messages at once (the
`messages*` columns of `rabbitmqctl list_queues` lag by up to ~5 s for quorum queues), and
`rabbitmqctl list_channels` the deliveries that consumers hold unacknowledged, at once too.
"""

import json
import os
import secrets
import shlex
import shutil
import subprocess
import time
from urllib.parse import quote, urlsplit, urlunsplit

from kombu import Connection

from harbor.brokers import DEAD_LETTER_QUEUE, QUEUES, safe, urls
from harbor.rabbitmq import DELIVERY_LIMIT, vhost_of

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672//"
# Where Celery's native delayed delivery keeps a retry's countdown (one queue per bit).
DELAYED_QUEUES = tuple(f"celery_delayed_{level}" for level in range(28))


def base_url():
    return os.environ.get("RABBITMQ_URL") or DEFAULT_URL


def required():
    return os.environ.get("HARBOR_REQUIRE_RABBITMQ") == "1"


def ctl(*args, timeout=60):
    """rabbitmqctl; or the command line in RABBITMQCTL (the cluster harness's: a node of its own
    cluster, never the machine's)."""
    command = shlex.split(os.environ.get("RABBITMQCTL") or "rabbitmqctl")
    return subprocess.run([*command, *args], check=True, capture_output=True, text=True,
                          timeout=timeout).stdout


def unavailable(url):
    """None when RabbitMQ at `url` answers AMQP and rabbitmqctl manages it; else why not."""
    try:
        with Connection(url, connect_timeout=3) as conn:  # a list: any node
            conn.ensure_connection(max_retries=max(1, len(urls(url)) - 1), timeout=3 * len(urls(url)))
    except Exception as exc:
        return f"RabbitMQ at {safe(url)} is unreachable ({exc.__class__.__name__}: {exc})"
    if not shutil.which("rabbitmqctl"):
        return "rabbitmqctl is not on PATH (it creates the test vhost and sets the dead-letter policy)"
    try:
        ctl("list_vhosts", "-q", timeout=30)
    except (subprocess.SubprocessError, OSError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        return f"rabbitmqctl cannot manage the broker (run the tests as root on its host?): {detail}"
    return None


class Vhost:
    """A throwaway vhost on the shared broker, set up as production's (setup_rabbitmq)."""

    def __init__(self, url):
        parts = urlsplit(urls(url)[0])
        self.name = f"harbor-test-{secrets.token_hex(4)}"
        self.user = parts.username or "guest"
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 5672  # (of the first node)
        self.url = ";".join(urlunsplit(urlsplit(node)._replace(path="/" + quote(self.name, safe="")))
                            for node in urls(url))
        self.delivery_limit = DELIVERY_LIMIT

    def via(self, address):
        """This vhost's URL through another host:port (a TcpProxy in front of the first node)."""
        parts = urlsplit(urls(self.url)[0])
        userinfo = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{userinfo}@{address}" if userinfo else address))

    def create(self):
        ctl("add_vhost", self.name)
        ctl("set_permissions", "-p", self.name, self.user, ".*", ".*", ".*")
        self.setup()
        return self

    def setup(self, delivery_limit=DELIVERY_LIMIT):
        """`manage.py setup_rabbitmq` for this vhost (as production runs it before the workers)."""
        from io import StringIO

        from django.core.management import call_command
        from django.test import override_settings

        out = StringIO()
        with override_settings(CELERY_BROKER_URL=self.url, BROKER_IS_AMQP=True, RABBITMQ_MANAGEMENT_URL=""):
            call_command("setup_rabbitmq", delivery_limit=delivery_limit, stdout=out)
        self.delivery_limit = delivery_limit
        return out.getvalue()

    def delete(self):
        ctl("delete_vhost", self.name)

    def purge(self, names=(*QUEUES, DEAD_LETTER_QUEUE, *DELAYED_QUEUES)):
        """Empty the queues (ready messages: call it when no consumer holds any)."""
        with Connection(self.url, connect_timeout=5) as conn:
            channel = conn.channel()
            for name in names:
                try:
                    channel.queue_purge(name)
                except conn.channel_errors:  # 404: not declared yet (celery_delayed_* before a worker)
                    channel = conn.channel()

    def list_queues(self, *columns):
        out = ctl("list_queues", "-q", "--no-table-headers", "-p", self.name, "name", *columns)
        return [line.split("\t") for line in out.splitlines() if line.strip()]


def ready(url, names=(*QUEUES, *DELAYED_QUEUES)):
    """{queue: ready messages} for the queues that exist (a passive declare each)."""
    counts = {}
    with Connection(url, connect_timeout=5) as conn:
        channel = conn.channel()
        for name in names:
            try:
                counts[name] = channel.queue_declare(name, passive=True).message_count
            except conn.channel_errors:
                channel = conn.channel()
    return counts


def unacked(url):
    """Deliveries held unacknowledged by the consumers on the vhost of `url`."""
    vhost = vhost_of(url)
    out = ctl("list_channels", "-q", "--no-table-headers", "vhost", "messages_unacknowledged", timeout=30)
    return sum(int(n) for v, _, n in (line.rpartition("\t") for line in out.splitlines()) if v == vhost)


def idle(url):
    """No message waits in a queue (countdowns in celery_delayed_* included) and none is held."""
    return not any(ready(url).values()) and not unacked(url)


def dead_letters(url):
    """What waits in dead_letters: each message's task, args and latest death (reason, queue).
    A peek: the messages are fetched unacknowledged and go back when the channel closes."""
    letters = []
    with Connection(url, connect_timeout=5) as conn:
        channel = conn.channel()
        while (message := channel.basic_get(DEAD_LETTER_QUEUE, no_ack=False)) is not None:
            headers = message.headers or {}
            death = (headers.get("x-death") or [{}])[0]
            args = json.loads(message.body)[0]
            letters.append({"task": headers.get("task"), "args": args, "reason": death.get("reason"),
                            "queue": death.get("queue"), "count": death.get("count")})
    return letters


def wait_idle(url, timeout=60):
    """Idle twice in a row (a message moving between queues is briefly in neither count)."""
    deadline = time.monotonic() + timeout
    streak = 0
    while time.monotonic() < deadline:
        streak = streak + 1 if idle(url) else 0
        if streak == 2:
            return True
        time.sleep(0.1)
    return False
