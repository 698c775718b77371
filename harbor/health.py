"""/healthz and /livez.

/healthz (readiness): is each backing service reachable from this process? 200 when all
are, 503 otherwise; the body names each check, e.g. {"database": "ok", "broker": "down",
"redis": "ok"}. It is cheap: the database check uses the request's pooled connection, the
broker check a pooled connection (one round trip), the Redis check one long-lived client;
and each is bounded by TIMEOUT, so a hanging dependency costs a second, not a thread (the
broker: a second per node of a RabbitMQ cluster, which is up while any of its nodes answers).

/livez (liveness): this process answers. It checks no dependency, so an outage of the
database does not get every web process restarted by its orchestrator.
"""

import logging
from functools import cache

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from harbor.celery import app as celery_app
from harbor.failover import ensure_connected

logger = logging.getLogger(__name__)
TIMEOUT = 1  # seconds, per check


def _database():
    with connection.cursor() as cursor:  # the request's connection (CONN_MAX_AGE keeps it open)
        cursor.execute("SELECT 1")


def _broker():
    with celery_app.pool.acquire(block=True, timeout=TIMEOUT) as conn:
        ensure_connected(conn, TIMEOUT)
        if conn.transport.driver_type == "redis":
            conn.default_channel.client.ping()  # kombu's Redis connects lazily: one real round trip
        else:
            conn.default_channel.exchange_declare("payments", "topic", passive=True)  # one AMQP round trip


@cache
def _redis_client():
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT,
                                health_check_interval=30)


def _redis():
    _redis_client().ping()


CHECKS = {"database": _database, "broker": _broker, "redis": _redis}


def healthz(request):
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure means "down"; the log says why
            logger.warning("healthz: %s is down: %s", name, exc)
            results[name] = "down"
    healthy = all(v == "ok" for v in results.values())
    return JsonResponse(results, status=200 if healthy else 503)


def livez(request):
    return JsonResponse({"status": "ok"})
