"""The metric names deploy/alerts.yml may use (tests/test_compose.py checks every expression).

An alert on a name nobody exports never fires and never says so: keep these lists true to the
programs that export them.
"""

# Harbor's own, at web's /metrics (a gauge exports its name, a counter `<name>_total`).
HARBOR_METRICS = {
    "harbor_orders",  # gauge, by status
    "harbor_stuck_orders",  # gauge
    "harbor_checkout_outcomes_total",  # counter, by status
    "harbor_charges_total",  # counter, by outcome: succeeded | failed
    "harbor_failed_payments_recent",  # gauge: declines shop-wide in the card-testing period
    "harbor_failed_payments_ceiling",  # gauge: CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT's count
    "harbor_webhook_subscribers",  # gauge, by state: active | disabled (webhooks/metrics.py)
    "harbor_webhook_deliveries",  # gauge, by status
    "harbor_webhook_oldest_pending_seconds",  # gauge
}

# danihodovic/celery-exporter, from its source (src/exporter.py, Exporter.__init__; default
# --metric-prefix celery_). prometheus_client exports a Counter `x` as x_total (and x_created),
# a Histogram `x` as x_bucket, x_count, x_sum (and x_created).
_EXPORTER_COUNTERS = ("task_sent", "task_received", "task_started", "task_succeeded", "task_failed",
                      "task_rejected", "task_revoked", "task_retried")
_EXPORTER_GAUGES = ("worker_up",  # 1 per worker host that sent a heartbeat lately (label hostname)
                    "worker_tasks_active",
                    "queue_length",  # ready messages, by passive queue_declare (label queue_name)
                    "active_consumer_count",  # consumers of the queue (RabbitMQ only)
                    "active_worker_count", "active_process_count")
_EXPORTER_HISTOGRAMS = ("task_runtime",)
EXPORTER_METRICS = (
    {f"celery_{name}{suffix}" for name in _EXPORTER_COUNTERS for suffix in ("_total", "_created")}
    | {f"celery_{name}" for name in _EXPORTER_GAUGES}
    | {f"celery_{name}{suffix}" for name in _EXPORTER_HISTOGRAMS
       for suffix in ("_bucket", "_count", "_sum", "_created")}
)

# Prometheus's own, for every target it scrapes.
PROMETHEUS_METRICS = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}

ALLOWED_IN_ALERTS = HARBOR_METRICS | EXPORTER_METRICS | PROMETHEUS_METRICS
