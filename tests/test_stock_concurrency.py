"""Overselling is impossible: concurrent checkouts on one SKU sell exactly what is in stock."""

import random

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from inventory.models import Stock
from orders.models import Order, OrderLine
from tests.concurrency import run_concurrently
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def checkout(body):
    return APIClient().post("/api/orders/", body, format="json").status_code


def test_25_concurrent_checkouts_for_10_units_sell_exactly_10(checkout_body, broker):
    ProductFactory(sku="HOT-1", stock__available=10)
    body = checkout_body(lines=[{"sku": "HOT-1", "quantity": 1}])

    codes = run_concurrently(lambda i: checkout(body), 25)

    assert sorted(codes) == [202] * 10 + [409] * 15
    assert Stock.objects.get().available == 0
    assert Order.objects.count() == 10
    assert OrderLine.objects.aggregate(n=Sum("quantity"))["n"] == 10


def test_concurrent_multi_line_checkouts_never_oversell_or_deadlock(checkout_body, broker):
    ProductFactory(sku="A", stock__available=30)
    ProductFactory(sku="B", stock__available=30)
    rng = random.Random(7)
    # Lines in both orders (A,B and B,A): reservation in pk order keeps them deadlock-free.
    bodies = [checkout_body(lines=rng.sample([{"sku": "A", "quantity": rng.randint(1, 4)},
                                              {"sku": "B", "quantity": rng.randint(1, 4)}], 2)) for _ in range(24)]

    codes = run_concurrently(lambda i: checkout(bodies[i]), 24)

    assert set(codes) <= {202, 409}, codes
    stock = dict(Stock.objects.values_list("product__sku", "available"))
    sold = dict(OrderLine.objects.values("sku").annotate(n=Sum("quantity")).values_list("sku", "n"))
    assert stock["A"] >= 0 and stock["B"] >= 0
    assert 30 - stock["A"] == sold.get("A", 0) and 30 - stock["B"] == sold.get("B", 0)
    assert Order.objects.count() == codes.count(202)
