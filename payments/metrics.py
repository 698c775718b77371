"""harbor_charges_total{outcome}: charges that succeeded (a refund later does not undo that)
and charges that failed, read from the Payment rows at scrape time (the worker processes
that make the charges are not scraped). One Payment per order, so it only grows."""

from django.db.models import Count, Q
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from payments import card_testing
from payments.models import Payment

SUCCEEDED = (Payment.Status.SUCCEEDED, Payment.Status.REFUNDED)


class ChargesCollector:
    def collect(self):
        counts = Payment.objects.aggregate(succeeded=Count("pk", filter=Q(status__in=SUCCEEDED)),
                                           failed=Count("pk", filter=Q(status=Payment.Status.FAILED)))
        charges = CounterMetricFamily("harbor_charges", "Charges by outcome (from the Payment rows at scrape time).",
                                      labels=["outcome"])
        charges.add_metric(["succeeded"], counts["succeeded"])
        charges.add_metric(["failed"], counts["failed"])
        yield charges


class CardTestingCollector:
    """harbor_failed_payments_recent: declines shop-wide within the ceiling's period, and
    harbor_failed_payments_ceiling: CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT's count (payments/
    card_testing.py; read from Redis at scrape time). At or over the ceiling the shop is under
    a card-testing attack: the per-client and per-card limits tighten, and HarborCardTesting fires."""

    def collect(self):
        figures = card_testing.recent_declines()
        if figures is None:  # no ceiling configured: nothing to compare
            return
        recent, ceiling = figures
        yield GaugeMetricFamily("harbor_failed_payments_recent",
                                "Declined payments shop-wide within the card-testing ceiling's period.", value=recent)
        yield GaugeMetricFamily("harbor_failed_payments_ceiling",
                                "CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT: declines per period before the shop counts as "
                                "under attack.", value=ceiling)
