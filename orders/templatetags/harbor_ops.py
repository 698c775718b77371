"""{% ops_panel %}: the at-a-glance panel on the admin index (figures from orders.ops.gather)."""

import logging
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import timezone

from orders.models import UNPAID
from orders.ops import QUEUES, format_age, gather, start_of_day

logger = logging.getLogger(__name__)
register = template.Library()


@register.inclusion_tag("admin/harbor_ops_panel.html", takes_context=True)
def ops_panel(context):
    request = context.get("request")
    if request is None or not request.user.has_perm("orders.view_order"):
        return {"show": False}
    try:
        figures = gather()
    except Exception:  # the panel must never break the admin index
        logger.exception("ops panel: figures unavailable")
        figures = {"errors": {"all": "unavailable"}}
    orders_url = reverse("admin:orders_order_changelist")
    today = start_of_day(timezone.now()).isoformat()
    by_status = figures.get("orders_today")
    queues = figures.get("queues") or {}
    return {
        "show": True,
        "f": figures,
        "statuses": [(status, count, orders_url + "?" + urlencode({"status": status, "created_at__gte": today}))
                     for status, count in (by_status or {}).items()],
        "orders_available": by_status is not None,
        "queues": [(queue, queues.get(queue)) for queue in QUEUES],
        "oldest_pending_age": format_age(figures.get("oldest_pending_age_seconds")),
        "oldest_pending_url": (reverse("admin:orders_order_change", args=[figures["oldest_pending_order"]])
                               if figures.get("oldest_pending_order") else None),
        "failures_url": reverse("admin:django_celery_results_taskresult_changelist") + "?status__exact=FAILURE",
        "unpaid_url": orders_url + "?" + urlencode({"status__in": ",".join(UNPAID)}),
    }
