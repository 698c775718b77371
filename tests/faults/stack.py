"""A whole Harbor shop for one fault test: real processes, test-scale timings.

Its own Redis (locks and cache, and the broker unless it runs on RabbitMQ, so a test may
stop or restart it), gunicorn, Celery workers and beat, all on the test database; Stripe
through the fault proxy; e-mail to the SMTP sink. Timings keep the production rule at test
scale: soft limit 8 s < time limit 10 s < lock TTL 12 s < visibility timeout 30 s; backoff max 4 s;
Beat's lease 3 s.

On RabbitMQ (broker_kind="rabbitmq") the broker is the session's vhost on the shared server
(tests/rabbit.py, set up by setup_rabbitmq), emptied before and after the test, and every
process reaches it through a TcpProxy (tests/tcpproxy.py), so a test can take the broker
down or blackhole it without touching the server the machine shares.
"""

import os
import sys
import time
from pathlib import Path

import redis
import requests
from celery import Celery
from django.conf import settings

from harbor import brokers
from harbor.devservices.base import free_port, pid_alive
from harbor.devservices.servers import Redis
from tests import rabbit
from tests.realworker import Process, Worker, settle, test_database_url, wait_until_idle
from tests.tcpproxy import TcpProxy

TIMINGS = {
    "CELERY_TASK_SOFT_TIME_LIMIT": "8",
    "CELERY_TASK_TIME_LIMIT": "10",
    "ORDER_LOCK_TTL": "12",
    "CELERY_VISIBILITY_TIMEOUT": "30",
    "TASK_RETRY_BACKOFF": "1",
    "TASK_RETRY_BACKOFF_MAX": "4",
    "STRIPE_TIMEOUT": "3",
    "RECONCILE_AFTER": "4",
    "FULFILL_MAX_ATTEMPTS": "5",
    # Beat's lease (harbor/beat.py) renewed every second: after the stack's Redis comes back
    # (empty), Beat holds it again and sends within a second.
    "BEAT_LEASE_TTL": "3",
}


class Stack:
    def __init__(self, root, stripe_url, email_url, broker_kind="redis", rabbitmq=None, **env):
        self.root = Path(root)
        self.redis = Redis(self.root, durable=False)
        self.stripe_url, self.email_url, self.extra_env = stripe_url, email_url, env
        self.broker_kind = broker_kind
        self.rabbitmq = rabbitmq  # tests.rabbit.Vhost, with broker_kind "rabbitmq"
        self.proxy = None
        self.processes = []
        self.web_url = None

    def start(self):
        self.redis.start()
        if self.broker_kind == "rabbitmq":
            self.rabbitmq.purge()
            self.proxy = TcpProxy(self.rabbitmq.host, self.rabbitmq.port).start()
        return self

    @property
    def broker_url(self):
        if self.broker_kind == "rabbitmq":
            return self.rabbitmq.via(self.proxy.address)
        return self.redis.url()

    @property
    def env(self):
        return {
            **os.environ, **TIMINGS,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": self.redis.url(),
            "CELERY_BROKER_URL": self.broker_url,
            "STRIPE_API_BASE": self.stripe_url,
            "EMAIL_URL": self.email_url,
            "HARBOR_FAILPOINTS": "1",
            "CHECKOUT_RATE_LIMIT": "",
            "HARBOR_VAR_DIR": str(settings.VAR_DIR),
            **self.extra_env,
        }

    def _log(self, name):
        return self.root / f"{name}-{len(self.processes)}.log"

    def worker(self, name="w1", concurrency=2, **options):
        """A worker on every queue; or, with queues=… and pool=…, e.g. the Procfile's payments line."""
        worker = Worker(self._log(name), self.env, concurrency=concurrency, name=name, **options).start()
        self.processes.append(worker)
        return worker

    def beat(self, name="beat", reconcile_interval=2, **env):
        from django.core.management import call_command

        call_command("setup_periodic_tasks", reconcile_interval=reconcile_interval, stdout=open(os.devnull, "w"))
        args = [sys.executable, "-m", "celery", "-A", "harbor", "beat", "-S", "django", "--loglevel", "INFO",
                "--pidfile=", "--max-interval", "1"]
        beat = Process(args, {**self.env, **env}, self._log(name), "beat: Starting").start()
        self.processes.append(beat)
        return beat

    def web(self):
        port = free_port()
        args = [sys.executable, "-m", "gunicorn", "harbor.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                "--threads", "4", "--timeout", "20"]
        web = Process(args, self.env, self._log("web"), "Booting worker").start()
        self.processes.append(web)
        self.web_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.web_url + "/api/products/", timeout=5)
                break
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or its first answer is slow
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return web

    def place(self, email, payment_method="pm_card_visa", sku="MUG-001", quantity=1, timeout=15):
        body = {"email": email, "lines": [{"sku": sku, "quantity": quantity}], "payment_method": payment_method,
                "shipping_address": {"name": "Fault Test", "line1": "1 Dock Road", "city": "Portsmouth",
                                     "postal_code": "PO1", "country": "GB"}}
        response = requests.post(self.web_url + "/api/orders/", json=body, timeout=timeout)
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def send(self, task, order_id, times=1):
        """Publish a task straight to the broker, as a duplicate delivery would."""
        amqp = brokers.is_amqp(self.broker_url)
        app = Celery(broker=self.broker_url, set_as_current=False)  # never the process's current app
        app.conf.update(task_routes=settings.CELERY_TASK_ROUTES, task_queues=brokers.queues(amqp),
                        task_default_queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                        broker_transport_options=brokers.transport_options(amqp, 30))
        for _ in range(times):
            app.send_task(task, args=[order_id])
        app.close()

    def wait_until_idle(self, timeout=60):
        return wait_until_idle(timeout, broker_url=self.broker_url)

    def settle(self, timeout=60):
        """Until nothing more can arrive (tests/realworker.settle): then count effects."""
        return settle(timeout, broker_url=self.broker_url)

    def queued(self, queue="payments"):
        """Messages waiting in a queue of this stack's broker (not those a worker holds)."""
        if self.broker_kind == "rabbitmq":
            return rabbit.ready(self.broker_url, names=(queue,)).get(queue, 0)
        return redis.Redis.from_url(self.broker_url).llen(queue)

    @property
    def redis_client(self):
        """The stack's Redis: locks, cache and failpoints whichever the broker."""
        return redis.Redis.from_url(self.redis.url())

    def restart_redis(self, down_for=0.0):
        self.redis.stop()
        time.sleep(down_for)
        self.redis.start()

    # --- The broker failing (Redis: the server itself; RabbitMQ: the proxy in front of it) ---
    def broker_down(self):
        """Nothing answers: Redis stopped (its data gone), or RabbitMQ refused and every
        connection to it reset."""
        if self.broker_kind == "rabbitmq":
            self.proxy.cut()
        else:
            self.redis.stop()

    def broker_blackholed(self):
        """RabbitMQ accepts TCP connections but never answers, and open ones stall."""
        assert self.broker_kind == "rabbitmq", "only the RabbitMQ stack has a proxy to blackhole"
        self.proxy.blackhole()

    def broker_back(self):
        if self.broker_kind == "rabbitmq":
            self.proxy.restore()
        else:
            self.redis.start()  # same port

    def set_delivery_limit(self, limit):
        """RabbitMQ: setup_rabbitmq --delivery-limit for this test (the default again after)."""
        self.rabbitmq.setup(delivery_limit=limit)

    def dead_letters(self):
        return rabbit.dead_letters(self.rabbitmq.url)

    def stop(self):
        for process in reversed(self.processes):
            process.stop()
        if self.proxy is not None:
            self.proxy.stop()
            self.rabbitmq.purge()  # what the stopped workers held is back in the queues
            if self.rabbitmq.delivery_limit != rabbit.DELIVERY_LIMIT:
                self.rabbitmq.setup()
        self.redis.stop()

    def logs(self):
        return "\n\n".join(f"--- {p.log_path.name} ---\n{p.tail(40)}" for p in self.processes)


def pool_children(worker_pid):
    import psutil

    return [child.pid for child in psutil.Process(worker_pid).children() if pid_alive(child.pid)]


def received(log_path, task, order_id, what="received"):
    """The ids of the `task` messages for the order that a worker's log says it received (or,
    with what="succeeded", that it finished). A redelivered message keeps its id (so does a
    retry the task sends itself); a task sent again by reconciliation, or as a duplicate,
    has a new one."""
    import re

    pattern = re.compile(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] {what}\b.*'args': \"[(\[]'{order_id}'")
    return pattern.findall(Path(log_path).read_text(errors="replace"))
