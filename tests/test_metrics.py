"""/metrics: django-prometheus's metrics and Harbor's own, for Prometheus, from inside only.

Served here by the test process's default registry; tests/test_metrics_gunicorn.py runs the
real thing (gunicorn's workers in multiprocess mode)."""

import random
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from orders.models import Order, OrderStatus
from payments.models import Payment
from tests.factories import ProductFactory

HARBOR = ("harbor_orders", "harbor_stuck_orders", "harbor_checkout_outcomes", "harbor_charges")


def parse(text):
    """{(sample name, (sorted label items)): value} and the set of family names."""
    samples, families = {}, set()
    for family in text_string_to_metric_families(text):
        families.add(family.name)
        for sample in family.samples:
            samples[sample.name, tuple(sorted(sample.labels.items()))] = sample.value
    return samples, families


def scrape(ip="127.0.0.1"):
    response = Client(REMOTE_ADDR=ip).get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")  # the text exposition format
    return parse(response.content.decode())


def checkouts(samples, status):
    return samples.get(("harbor_checkout_outcomes_total", (("status", status),)), 0)


@pytest.mark.parametrize("ip", ["10.1.2.3", "192.168.0.7", "2001:db8::1", "127.0.0.2"])
def test_metrics_are_refused_from_outside(ip, db):
    response = Client(REMOTE_ADDR=ip).get("/metrics")

    assert response.status_code == 403
    assert b"harbor_" not in response.content


def test_metrics_allowed_ips_are_networks_from_the_setting(db, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "fd00::/8"]

    assert Client(REMOTE_ADDR="10.20.30.40").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="fd00::5").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403  # not in the list any more
    assert Client(REMOTE_ADDR="").get("/metrics").status_code == 403  # e.g. a unix socket: no address


def test_the_default_allows_loopback_v4_v6_and_v4_mapped(db):
    for ip in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        assert Client(REMOTE_ADDR=ip).get("/metrics").status_code == 200


def test_metrics_show_harbors_gauges_and_counters_and_django_prometheus(db, settings):
    ProductFactory(sku="MUG-001", unit_price=1800, stock__available=5)
    before, _ = scrape()
    long_ago = timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER + 60)
    for status, n in [(OrderStatus.FULFILLED, 3), (OrderStatus.PAYMENT_FAILED, 2), (OrderStatus.NEEDS_REVIEW, 1),
                      (OrderStatus.REFUNDED, 1), (OrderStatus.PAID, 1)]:
        for _ in range(n):
            order = Order.objects.create(email="a@example.com", shipping_address={}, payment_method="pm_card_visa",
                                         total=1800, currency="usd", status=status)
            payment = {OrderStatus.FULFILLED: "succeeded", OrderStatus.REFUNDED: "refunded",
                       OrderStatus.PAYMENT_FAILED: "failed", OrderStatus.PAID: "succeeded"}.get(status)
            if payment:
                Payment.objects.create(order=order, amount=1800, currency="usd", status=payment)
    stuck = Order.objects.create(email="b@example.com", shipping_address={}, payment_method="pm_card_visa",
                                 total=1800, currency="usd")  # pending, untouched since long ago
    Order.objects.filter(pk=stuck.pk).update(updated_at=long_ago)
    Order.objects.filter(status=OrderStatus.PAID).update(updated_at=long_ago)

    api = APIClient()
    body = {"email": "shopper@example.com", "lines": [{"sku": "MUG-001", "quantity": 1}], "payment_method": "pm_card_visa",
            "shipping_address": {"name": "Ada", "line1": "12 Dock Road", "city": "Portsmouth", "postal_code": "PO1 3AX",
                                 "country": "GB"}}
    answers = [
        api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="metrics-1"),  # 202
        api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="metrics-1"),  # 200 replay
        api.post("/api/orders/", {**body, "email": "x@example.com"}, format="json",
                 HTTP_IDEMPOTENCY_KEY="metrics-1"),  # 422
        api.post("/api/orders/", {}, format="json"),  # 400
        api.post("/api/orders/", "{not json", content_type="application/json"),  # 400, a parse error
        api.post("/api/orders/", {**body, "lines": [{"sku": "MUG-001", "quantity": 99}]}, format="json"),  # 409
        api.post("/api/orders/", "x" * (64 * 1024 + 1), content_type="application/json"),  # 413
        api.post("/api/orders/", "email=a", content_type="text/plain"),  # 415
    ]
    settings.CHECKOUT_RATE_LIMIT = "1/minute"
    ip = f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"  # a fresh client: its count starts at 0
    answers += [api.post("/api/orders/", {}, format="json", REMOTE_ADDR=ip) for _ in range(2)]  # 400, then 429
    assert [a.status_code for a in answers] == [202, 200, 422, 400, 400, 409, 413, 415, 400, 429]

    after, families = scrape()

    assert set(HARBOR) <= families
    orders = {labels[0][1]: value for (name, labels), value in after.items() if name == "harbor_orders"}
    assert orders == {status: Order.objects.filter(status=status).count() for status in OrderStatus.values}
    assert orders["fulfilled"] == 3 and orders["needs_review"] == 1 and orders["requires_action"] == 0
    assert orders["pending"] == 2  # the stuck one and the API's
    assert after["harbor_stuck_orders", ()] == 2  # the old pending and the old paid one
    assert after["harbor_charges_total", (("outcome", "succeeded"),)] == 5  # 3 fulfilled, 1 paid, 1 refunded
    assert after["harbor_charges_total", (("outcome", "failed"),)] == 2
    counted = {status: checkouts(after, status) - checkouts(before, status)
               for status in ("202", "200", "400", "409", "413", "415", "422", "429", "500")}
    assert counted == {"202": 1, "200": 1, "400": 3, "409": 1, "413": 1, "415": 1, "422": 1, "429": 1, "500": 0}
    # django-prometheus: requests, latencies, database and cache.
    assert {"django_http_requests_total_by_method", "django_http_requests_latency_seconds_by_view_method",
            "django_http_responses_total_by_status_view_method", "django_db_execute", "django_cache_get"} <= families
    assert after["django_http_requests_total_by_method_total", (("method", "POST"),)] >= 10
    assert after["django_db_execute_total", (("alias", "default"), ("vendor", "postgresql"))] > 0
    assert after["django_cache_get_total", (("backend", "redis"),)] > 0  # the throttle's count


def test_storefront_place_order_outcomes_are_counted(db):
    ProductFactory(sku="MUG-001", unit_price=1800, stock__available=5)
    shopper = Client()
    shopper.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})
    page = shopper.get("/checkout/").content.decode()
    token = page.split('name="checkout_token" value="', 1)[1][:32]
    address = {"email": "ada@example.com", "name": "Ada Lovelace", "line1": "12 Dock Road", "line2": "",
               "city": "Portsmouth", "postal_code": "PO1 3AX", "country": "GB", "checkout_token": token}
    before, _ = scrape()

    invalid = shopper.post("/checkout/", {**address, "email": "not-an-address", "payment_method": "pm_card_visa"})
    placed = shopper.post("/checkout/", {**address, "payment_method": "pm_card_visa"})
    again = shopper.post("/checkout/", {**address, "payment_method": "pm_card_visa"})  # the same page again
    empty = Client().post("/checkout/", {**address, "checkout_token": "0" * 32, "payment_method": "pm_card_visa"})
    after, _ = scrape()

    assert [r.status_code for r in (invalid, placed, again, empty)] == [400, 303, 303, 303]

    def outcome(samples, name):
        return samples.get(("harbor_storefront_checkout_outcomes_total", (("outcome", name),)), 0)

    assert {name: outcome(after, name) - outcome(before, name) for name in ("invalid", "placed", "replayed",
                                                                          "empty_cart", "throttled")} == {
        "invalid": 1, "placed": 1, "replayed": 1, "empty_cart": 1, "throttled": 0}


def test_a_failing_collector_leaves_the_rest_of_the_scrape(db, monkeypatch):
    from orders.metrics import OrdersCollector

    def broken(self):
        raise RuntimeError("database down")
        yield

    monkeypatch.setattr(OrdersCollector, "collect", broken)
    samples, families = scrape()

    assert "harbor_orders" not in families and "harbor_charges" in families
    assert "django_http_requests_total_by_method" in families


def test_manage_py_never_writes_into_the_multiprocess_directory(tmp_path):
    """Only gunicorn's workers use PROMETHEUS_MULTIPROC_DIR: another process that inherited
    it drops it on import of harbor (a Celery worker: tests/test_tracing.py's traced_worker)."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    directory = tmp_path / "prometheus"
    directory.mkdir()
    out = subprocess.run([sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, capture_output=True, text=True,
                         env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}, timeout=120)

    assert out.returncode == 0, out.stderr
    assert list(directory.iterdir()) == []
