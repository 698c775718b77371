"""The benchmark's instruments: wrk for HTTP, the database's clock for the pipeline.

Needs Django set up (the pipeline parts read orders) and `wrk` on the PATH.
"""

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import redis
from django.conf import settings

WRK_LIB = Path(__file__).resolve().parent / "wrk"
FINAL = ("fulfilled", "payment_failed", "canceled", "refunded", "needs_review")
QUEUES = ("payments", "fulfillment", "notifications")


def wrk(url, connections, seconds, script="get.lua", args=(), threads=2):
    """Run wrk; return requests/s, latency percentiles (ms), answers by status, socket errors."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (`make bench` installs Debian's wrk when run as root)")
    argv = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency",
            "-s", str(WRK_LIB / script), url]
    if args:
        argv += ["--", *args]
    out = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "WRK_LIB": str(WRK_LIB)},
                         timeout=seconds + 60)
    line = next((line for line in out.stdout.splitlines() if line.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no report:\n{out.stdout}\n{out.stderr}")
    raw = json.loads(line.removeprefix("WRK_JSON "))
    statuses = {int(k): v for k, v in raw["statuses"].items()}
    return {
        "connections": connections, "seconds": seconds,
        "requests": raw["requests"], "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000, "p95_ms": raw["p95_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000, "statuses": statuses,
        "server_errors": sum(n for status, n in statuses.items() if status >= 500),
        "socket_errors": sum(raw["socket_errors"].values()),
    }


def broker():
    """The Redis broker's client: the benchmark counts queued and unacknowledged messages in
    Redis (make bench runs on the embedded services); a RabbitMQ broker (a URL or a cluster's
    list) is not what it measures."""
    from harbor.brokers import is_amqp, safe

    if is_amqp(settings.CELERY_BROKER_URL):
        raise RuntimeError(f"the benchmark measures a Redis broker, not {safe(settings.CELERY_BROKER_URL)}")
    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def queue_depth():
    client = broker()
    return sum(client.llen(q) for q in QUEUES) + client.hlen("unacked")


def purge_queues():
    client = broker()
    client.delete(*QUEUES, "unacked", "unacked_index")


def wait_until_final(order_ids, timeout, poll=0.5):
    """Seconds until every order is final (or None if `timeout` passed), and how many were."""
    from orders.models import Order

    started = time.monotonic()
    while True:
        left = Order.objects.filter(pk__in=order_ids).exclude(status__in=FINAL).count()
        elapsed = time.monotonic() - started
        if left == 0:
            return elapsed, len(order_ids)
        if elapsed > timeout:
            return None, len(order_ids) - left
        time.sleep(poll)


def wait_until_drained(timeout, poll=0.05):
    started = time.monotonic()
    while queue_depth():
        if time.monotonic() - started > timeout:
            return None
        time.sleep(poll)
    return time.monotonic() - started


def checkout_latencies(order_ids):
    """Seconds from checkout to fulfilled, per fulfilled order (from the orders' own events)."""
    from orders.models import Order, OrderEvent

    created = dict(Order.objects.filter(pk__in=order_ids).values_list("pk", "created_at"))
    done = OrderEvent.objects.filter(order_id__in=order_ids, to_status="fulfilled").values_list("order_id", "created_at")
    return sorted((at - created[oid]).total_seconds() for oid, at in done)


def percentile(values, p):
    """Nearest rank (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, -(-p * len(ordered) // 100) - 1)]
