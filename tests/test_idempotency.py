"""The Idempotency-Key header: a retried checkout never makes a second order."""

import pytest
from rest_framework.test import APIClient

from inventory.models import Stock
from orders.models import Order
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)


def post(api, body, key):
    return api.post("/api/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_and_body_returns_the_same_order(api, product, checkout_body, broker):
    first = post(api, checkout_body(), "retry-1")
    # Key order and whitespace do not make it a different body.
    again = api.generic("POST", "/api/orders/", '{"shipping_address": %s, "payment_method": "pm_card_visa", '
                        '"lines": [{"quantity": 2, "sku": "MUG-001"}], "email": "shopper@example.com"}'
                        % __import__("json").dumps(checkout_body()["shipping_address"]),
                        content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-1")

    assert first.status_code == 202
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"] and again["Location"] == first["Location"]
    assert Order.objects.count() == 1
    assert Stock.objects.get().available == 48


def test_same_key_with_another_body_is_422_and_writes_nothing(api, product, checkout_body, broker):
    post(api, checkout_body(), "retry-2")

    response = post(api, checkout_body(email="someone.else@example.com"), "retry-2")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 1 and Stock.objects.get().available == 48


def test_different_keys_make_different_orders(api, product, checkout_body, broker):
    a, b = post(api, checkout_body(), "a"), post(api, checkout_body(), "b")

    assert a.json()["id"] != b.json()["id"] and Order.objects.count() == 2


def test_a_key_whose_checkout_failed_can_be_retried(api, product, checkout_body, broker):
    Stock.objects.update(available=1)
    assert post(api, checkout_body(), "k").status_code == 409  # short: nothing kept, not even the key
    Stock.objects.update(available=5)

    assert post(api, checkout_body(), "k").status_code == 202


def test_concurrent_duplicates_with_one_key_make_one_order(product, checkout_body, broker):
    body = checkout_body()

    responses = run_concurrently(lambda i: post(APIClient(), body, "same-key"), 12)

    assert not [r for r in responses if isinstance(r, BaseException)], responses
    assert sorted(r.status_code for r in responses) == [200] * 11 + [202]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Order.objects.count() == 1 and Stock.objects.get().available == 48


def test_a_replay_finds_its_order_even_after_a_product_in_it_was_deactivated(api, product, checkout_body, broker):
    from catalog.models import Product

    first = post(api, checkout_body(), "before-deactivation")
    Product.objects.filter(sku="MUG-001").update(active=False)

    again = post(api, checkout_body(), "before-deactivation")

    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert post(api, checkout_body(), "a-new-key").status_code == 400  # a new order for it is refused


def test_keys_are_forgotten_after_24_hours(api, product, checkout_body, broker):
    from datetime import timedelta

    from django.utils import timezone

    from orders.models import IdempotencyKey
    from orders.tasks import forget_idempotency_keys

    first = post(api, checkout_body(), "old-key")
    post(api, checkout_body(), "fresh-key")
    IdempotencyKey.objects.filter(key="old-key").update(created_at=timezone.now() - timedelta(hours=25))

    again = post(api, checkout_body(email="someone.else@example.com"), "old-key")  # no 422: it was forgotten
    assert again.status_code == 202 and again.json()["id"] != first.json()["id"]

    IdempotencyKey.objects.filter(key="old-key").update(created_at=timezone.now() - timedelta(hours=25))
    assert forget_idempotency_keys() == {"forgotten": 1}
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh-key"]
    assert Order.objects.count() == 3  # forgetting a key never touches its order
