"""The shop at a glance: the figures behind the admin index panel and `manage.py harbor_status`.

`gather()` returns one dict (JSON-ready). Each part is gathered on its own: a part that
fails (broker unreachable, say) is None, with the reason under "errors", and the rest are
still there. Broker calls are bounded by short timeouts so the admin index stays quick.
"""

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone

from orders.models import UNPAID, Order, OrderLine, OrderStatus
from orders.reconcile import stuck_orders

logger = logging.getLogger(__name__)

QUEUES = ("payments", "fulfillment", "notifications", "webhooks")
TIMEOUT = 1  # seconds, per broker call


def gather(now=None):
    now = now or timezone.now()
    figures = {"generated_at": now.isoformat(), "errors": {}}
    parts = [("orders", _orders), ("queues", _queue_depths), ("workers", _workers), ("failures", _failures)]
    for name, part in parts:
        if name == "workers" and figures.get("queues") is None:
            # The broker did not answer: a ping would only wait for its own timeout.
            figures.update(workers_alive=None, workers=None)
            figures["errors"]["workers"] = "broker unavailable"
            continue
        try:
            figures.update(part(now))
        except Exception as exc:  # shown as "unavailable"; the log says why
            logger.warning("ops figures: %s unavailable: %r", name, exc)
            figures["errors"][name] = f"{type(exc).__name__}: {exc}"
            figures.update(dict.fromkeys(EMPTY[name]))
    return figures


def start_of_day(now):
    """Midnight (TIME_ZONE) of `now`'s day: where "today" starts."""
    return timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))


def _orders(now):
    today = dict(Order.objects.filter(created_at__gte=start_of_day(now)).values_list("status")
                 .annotate(n=Count("pk")).order_by())
    stuck = stuck_orders(now).count()
    oldest = Order.objects.filter(status=OrderStatus.PENDING).order_by("created_at").values("pk", "created_at").first()
    # Stock held with no money moved yet (pending, or waiting for 3-D Secure): what a client
    # placing unpaid orders could hold hostage (CHECKOUT_UNPAID_LIMIT bounds it per client).
    held = OrderLine.objects.filter(order__status__in=UNPAID, order__stock_released=False).aggregate(
        units=Sum("quantity"), orders=Count("order", distinct=True))
    return {
        "unpaid_orders": held["orders"] or 0,
        "stock_held_by_unpaid": held["units"] or 0,
        "orders_today": {status: today.get(status, 0) for status in OrderStatus.values},
        "stuck_orders": stuck,
        "stuck_after_seconds": settings.RECONCILE_AFTER,
        "oldest_pending_age_seconds": max(0, int((now - oldest["created_at"]).total_seconds())) if oldest else None,
        "oldest_pending_order": str(oldest["pk"]) if oldest else None,
    }


def _queue_depths(now):
    """Messages waiting per queue. Redis: LLEN of the queue's lists (kombu keeps one per
    priority step); another broker: a passive queue_declare's message count."""
    from harbor.celery import app
    from harbor.failover import ensure_connected

    depths = {}
    with app.connection_for_read() as conn:
        ensure_connected(conn, TIMEOUT)  # each node of a cluster in turn
        if conn.transport.driver_type == "redis":
            channel = conn.default_channel
            for queue in QUEUES:
                depths[queue] = channel._size(queue)  # sums LLEN over the priority lists
        else:
            for queue in QUEUES:
                try:
                    with conn.channel() as channel:  # a failed passive declare closes its channel
                        depths[queue] = channel.queue_declare(queue, passive=True).message_count
                except Exception as exc:
                    logger.info("ops figures: queue %s: %r", queue, exc)
                    depths[queue] = None
    return {"queues": depths}


def _workers(now):
    from harbor.celery import app

    replies = app.control.ping(timeout=TIMEOUT) or []
    names = sorted(name for reply in replies for name in reply)
    return {"workers_alive": len(names), "workers": names}


def _failures(now):
    from django_celery_results.models import TaskResult

    count = TaskResult.objects.filter(status="FAILURE", date_done__gte=now - timedelta(hours=1)).count()
    return {"task_failures_last_hour": count}


EMPTY = {
    "orders": ["unpaid_orders", "stock_held_by_unpaid", "orders_today", "stuck_orders", "stuck_after_seconds",
               "oldest_pending_age_seconds", "oldest_pending_order"],
    "queues": ["queues"],
    "workers": ["workers_alive", "workers"],
    "failures": ["task_failures_last_hour"],
}


def format_age(seconds):
    """3725 → "1h 2m"; 59 → "59s"; None → "–"."""
    if seconds is None:
        return "–"
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"
