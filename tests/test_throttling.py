"""Checkout cannot be hammered: per client IP, and failed payments per e-mail (card testing)."""

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from orders.models import Order
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


def post(body, ip="203.0.113.7", key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return APIClient().post("/api/orders/", body, format="json", REMOTE_ADDR=ip, **headers)


def test_one_client_placing_orders_too_fast_gets_429_with_retry_after(product, checkout_body, broker, settings):
    settings.CHECKOUT_RATE_LIMIT = "3/minute"

    answers = [post(checkout_body()).status_code for _ in range(3)]
    limited = post(checkout_body())

    assert answers == [202, 202, 202]
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert limited.json()["code"] == "throttled" and "available in" in limited.json()["detail"]
    assert Order.objects.count() == 3
    assert post(checkout_body(), ip="198.51.100.9").status_code == 202  # another client is not held up


def test_an_empty_limit_turns_the_per_ip_limit_off(product, checkout_body, broker, settings):
    settings.CHECKOUT_RATE_LIMIT = ""

    assert {post(checkout_body()).status_code for _ in range(8)} == {202}


def test_an_address_with_many_failed_payments_is_held_off(product, checkout_body, broker, settings):
    from orders.fulfillment import apply_payment
    from payments.charge import Result

    settings.CHECKOUT_FAILED_PAYMENTS_LIMIT = "2/hour"
    for _ in range(2):  # two declined cards, as the worker records them
        order = Order.objects.create(email="tester@example.com", shipping_address={}, payment_method="pm_x",
                                     total=1, currency="usd")
        apply_payment(order, Result("failed", "Your card was declined."))

    refused = post(checkout_body(email="Tester@Example.com"))

    assert refused.status_code == 429 and int(refused["Retry-After"]) > 3500
    assert post(checkout_body(email="someone@example.com")).status_code == 202
    assert Order.objects.filter(email__iexact="tester@example.com").count() == 2


def test_the_storefront_checkout_is_limited_the_same_way(product, broker, settings):
    settings.CHECKOUT_RATE_LIMIT = "1/minute"
    shopper = Client(REMOTE_ADDR="203.0.113.8")
    shopper.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})
    form = {"email": "a@example.com", "name": "A", "line1": "1 Road", "city": "C", "postal_code": "P",
            "country": "GB", "payment_method": "pm_card_visa"}

    first = shopper.post("/checkout/", {**form, "checkout_token": "a" * 32})
    shopper.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})
    second = shopper.post("/checkout/", {**form, "checkout_token": "b" * 32})

    assert first.status_code == 303
    assert second.status_code == 429 and second["Retry-After"] and "Too many attempts" in second.content.decode()
    assert Order.objects.count() == 1


def test_the_429_is_documented_in_the_schema(api, db):
    import yaml

    schema = yaml.safe_load(api.get("/api/schema/").content)
    assert "429" in schema["paths"]["/api/orders/"]["post"]["responses"]


@pytest.fixture
def product(db):
    return ProductFactory(sku="MUG-001", unit_price=1800, stock__available=500)


def test_with_the_cache_away_orders_are_still_taken(product, checkout_body, broker, settings, monkeypatch):
    settings.CHECKOUT_RATE_LIMIT = "3/minute"

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "get", down)

    assert post(checkout_body()).status_code == 202
