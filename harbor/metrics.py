"""/metrics for Prometheus: django-prometheus's metrics, the shop's counters and the
collectors the domain apps register here (harbor/ imports no domain app).

Under gunicorn, each worker process writes its counters and histograms to files in
PROMETHEUS_MULTIPROC_DIR (harbor/gunicorn.conf.py sets it, only for gunicorn), and a scrape,
answered by any one worker, adds up every worker's files (MultiProcessCollector) — those
of dead workers too, so totals never drop. Without that variable (manage.py runserver,
another server, tests) the process's own default registry is served.

django-prometheus's own export view is not used: in multiprocess mode it builds a registry
holding only the MultiProcessCollector, so collectors like "orders by status" would be
missing. Domain collectors run at scrape time, in the process that answers the scrape
(web processes only: Celery workers are not scraped), so they read the database.

Reachable only from METRICS_ALLOWED_IPS (CIDRs; default the loopback addresses): the
address checked is REMOTE_ADDR, which behind a reverse proxy is the proxy's own, so there
either let the proxy refuse /metrics from outside, or scrape the web process directly.
"""

import ipaddress
import logging
import os

import prometheus_client
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

logger = logging.getLogger(__name__)

_collectors = []


def register(collector):
    """Add a scrape-time collector (an object with collect() yielding metric families).
    Called by domain apps from AppConfig.ready(); registering the same class again is a no-op."""
    if not any(type(c) is type(collector) for c in _collectors):
        _collectors.append(collector)
    return collector


class _Scrape:
    """What one scrape exports: the base registry, then each registered collector. A collector
    that fails (the database is down) is logged and left out; the rest is still served."""

    def __init__(self, base):
        self.base = base

    def collect(self):
        yield from self.base.collect()
        for collector in _collectors:
            try:
                families = list(collector.collect())
            except Exception:
                logger.exception("metrics: %s failed; its metrics are left out of this scrape",
                                 type(collector).__name__)
                continue
            yield from families


def registry():
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)  # every worker's files, dead ones included
        return _Scrape(base)
    return _Scrape(prometheus_client.REGISTRY)


def allowed(address):
    """Is this client address (REMOTE_ADDR) inside METRICS_ALLOWED_IPS?"""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:  # e.g. empty behind a unix socket
        return False
    if ip.version == 6 and ip.ipv4_mapped:  # ::ffff:127.0.0.1 from a dual-stack socket
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(network, strict=False) for network in settings.METRICS_ALLOWED_IPS)


def metrics_view(request):
    if not allowed(request.META.get("REMOTE_ADDR")):
        raise PermissionDenied("metrics are served to METRICS_ALLOWED_IPS only")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
