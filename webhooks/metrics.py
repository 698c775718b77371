"""Webhook metrics, read from the database at scrape time (like harbor_orders): the workers that
deliver have no /metrics of their own.

- harbor_webhook_subscribers{state="active|disabled"}: a disabled subscriber (every delivery
  failed for WEBHOOK_DISABLE_AFTER) is what deploy/alerts.yml's HarborWebhookSubscriberDisabled
  pages on;
- harbor_webhook_deliveries{status}: deliveries by status (pending, delivered, failed);
- harbor_webhook_oldest_pending_seconds: how long the oldest pending delivery has waited.
"""

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from webhooks.models import Delivery, Subscriber


class WebhooksCollector:
    def collect(self):
        subscribers = GaugeMetricFamily("harbor_webhook_subscribers", "Webhook subscribers by state.",
                                        labels=["state"])
        subscribers.add_metric(["active"], Subscriber.objects.filter(active=True).count())
        subscribers.add_metric(["disabled"], Subscriber.objects.filter(active=False, disabled_at__isnull=False).count())
        yield subscribers
        counts = dict(Delivery.objects.order_by().values_list("status").annotate(n=Count("pk")))
        deliveries = GaugeMetricFamily("harbor_webhook_deliveries", "Webhook deliveries by status.", labels=["status"])
        for status in Delivery.Status.values:
            deliveries.add_metric([status], counts.get(status, 0))
        yield deliveries
        oldest = Delivery.objects.filter(status=Delivery.Status.PENDING).aggregate(t=Min("created_at"))["t"]
        yield GaugeMetricFamily("harbor_webhook_oldest_pending_seconds", "Age of the oldest pending webhook delivery.",
                                value=(timezone.now() - oldest).total_seconds() if oldest else 0)
