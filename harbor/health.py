"""/healthz: is each backing service reachable from this process?

200 when all are up, 503 otherwise; the body names each check, e.g.
{"database": "ok", "broker": "down", "redis": "ok"}. Each check is bounded by a short
timeout so the endpoint answers quickly even when a dependency hangs.
"""

import logging

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from harbor.celery import app as celery_app

logger = logging.getLogger(__name__)
TIMEOUT = 2  # seconds, per check


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=TIMEOUT)
        if conn.transport.driver_type == "redis":
            # kombu's Redis transport connects lazily: make one real round trip.
            conn.default_channel.client.ping()


def _redis():
    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT).ping()


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
