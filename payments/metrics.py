"""harbor_charges_total{outcome}: charges that succeeded (a refund later does not undo that)
and charges that failed, read from the Payment rows at scrape time (the worker processes
that make the charges are not scraped). One Payment per order, so it only grows."""

from django.db.models import Count, Q
from prometheus_client.core import CounterMetricFamily

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
