"""Harbor's order metrics for Prometheus (served by harbor.metrics at /metrics).

- harbor_checkout_outcomes_total{status}: every answer to POST /api/orders/ by HTTP status
  (202 placed, 200 replayed, 400 invalid or unparseable, 409 out of stock, 413 too large,
  415 not JSON, 422 key reused, 429 throttled, 500). Counted where it happens (the web
  process); under gunicorn the workers' counts are added up at scrape time.
- harbor_orders{status}: orders by status, every status present (0 included), and
- harbor_stuck_orders: orders reconciliation would push on now (orders.reconcile.stuck_orders),
  both read from the database at scrape time, by the process answering the scrape.
"""

from django.db.models import Count
from django.utils import timezone
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

from orders.models import Order, OrderStatus

CHECKOUT_STATUSES = ("202", "200", "400", "409", "413", "415", "422", "429", "500")

CHECKOUT_OUTCOMES = Counter("harbor_checkout_outcomes", "Answers to POST /api/orders/, by HTTP status.", ["status"])
for _status in CHECKOUT_STATUSES:  # every series from 0, so rate() sees the first one
    CHECKOUT_OUTCOMES.labels(status=_status)


class OrdersCollector:
    def collect(self):
        from orders.reconcile import stuck_orders

        counts = dict(Order.objects.order_by().values_list("status").annotate(n=Count("pk")))
        orders = GaugeMetricFamily("harbor_orders", "Orders by status (from the database at scrape time).",
                                   labels=["status"])
        for status in OrderStatus.values:
            orders.add_metric([status], counts.get(status, 0))
        yield orders
        yield GaugeMetricFamily("harbor_stuck_orders", "Unfinished orders untouched for RECONCILE_AFTER: "
                                "what reconciliation would push on now.", value=stuck_orders(timezone.now()).count())
