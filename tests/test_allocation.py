"""Checkout takes each line's stock from the warehouses that ship to the address
(inventory/stock.py): from one warehouse when one holds the whole line (the first by priority,
then the one with the most stock), split across them in that order when none does; never more
than a warehouse holds, under any concurrency; and the shopper sees the sum."""

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from inventory.models import Allocation, Stock
from inventory.stock import InsufficientStock
from orders.checkout import place_order
from orders.stock import release_stock, stock_drift
from tests.concurrency import run_concurrently
from tests.factories import ProductFactory, StockFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

US = {"name": "A", "line1": "1 Main St", "line2": "", "city": "Newark", "region": "NJ", "postal_code": "07114",
      "country": "US"}
GB = {"name": "A", "line1": "1 Road", "line2": "", "city": "Portsmouth", "postal_code": "PO1", "country": "GB"}


@pytest.fixture
def warehouses(db):
    """Newark ships to North America and comes first there; Portsmouth ships everywhere."""
    return (WarehouseFactory(code="newark", priority=1, countries=["US", "CA", "MX"]),
            WarehouseFactory(code="portsmouth", priority=2))


def stocked(sku, **units):
    """A product with `units` = {warehouse code: units} in each warehouse."""
    product = ProductFactory(sku=sku, stock=None)
    for code, n in units.items():
        StockFactory(product=product, warehouse=WarehouseFactory(code=code), available=n)
    return product


def taken(order):
    return {(a.warehouse.code, a.product.sku): a.quantity for a in Allocation.objects.filter(order_id=order.pk)}


def buy(product, quantity, address=US, email="a@example.com"):
    order, _ = place_order(email=email, lines=[{"product": product, "quantity": quantity}],
                           payment_method="pm_card_visa", shipping_address=address)
    return order


def left(product):
    return dict(Stock.objects.filter(product=product).values_list("warehouse__code", "available"))


def test_a_line_one_warehouse_holds_comes_from_the_first_by_priority(warehouses, broker):
    mug = stocked("MUG", newark=5, portsmouth=50)

    assert taken(buy(mug, 3)) == {("newark", "MUG"): 3}
    assert left(mug) == {"newark": 2, "portsmouth": 50}


def test_when_the_first_cannot_hold_it_the_next_that_can_sends_it_whole(warehouses, broker):
    mug = stocked("MUG", newark=2, portsmouth=50)

    assert taken(buy(mug, 3)) == {("portsmouth", "MUG"): 3}  # one parcel, not 2 + 1


def test_among_equal_priority_the_one_with_most_stock_sends_it(db, broker):
    WarehouseFactory(code="east", priority=5), WarehouseFactory(code="west", priority=5)
    mug = stocked("MUG", east=4, west=9)

    assert taken(buy(mug, 3, address=GB)) == {("west", "MUG"): 3}


def test_a_line_no_warehouse_holds_is_split_in_priority_order(warehouses, broker):
    blanket = stocked("BLK", newark=4, portsmouth=8)

    assert taken(buy(blanket, 9)) == {("newark", "BLK"): 4, ("portsmouth", "BLK"): 5}
    assert left(blanket) == {"newark": 0, "portsmouth": 3}


def test_only_warehouses_that_ship_to_the_address_count(warehouses, broker):
    blanket = stocked("BLK", newark=4, portsmouth=3)

    assert taken(buy(blanket, 3, address=GB)) == {("portsmouth", "BLK"): 3}  # Newark does not ship to GB
    with pytest.raises(InsufficientStock):
        buy(blanket, 1, address=GB)
    assert left(blanket) == {"newark": 4, "portsmouth": 0}  # nothing taken by the refused one


def test_the_shopper_sees_the_sum_over_every_warehouse(warehouses, broker):
    stocked("BLK", newark=4, portsmouth=8)

    [listed] = APIClient().get("/api/products/").json()["results"]

    assert listed["available"] == 12


def test_released_stock_goes_back_to_the_warehouse_it_came_from(warehouses, broker):
    blanket = stocked("BLK", newark=4, portsmouth=8)
    order = buy(blanket, 9)

    assert release_stock(order)
    assert not release_stock(order)  # once

    assert left(blanket) == {"newark": 4, "portsmouth": 8}
    assert stock_drift() == {}


@pytest.mark.django_db(transaction=True)
def test_twenty_checkouts_racing_for_split_stock_never_oversell_any_warehouse(broker):
    WarehouseFactory(code="newark", priority=1, countries=["US"]), WarehouseFactory(code="portsmouth", priority=2)
    blanket = stocked("BLK", newark=7, portsmouth=6)  # 13 in all

    def attempt(i):
        try:
            return sum(taken(buy(blanket, 2, email=f"racer-{i}@example.com")).values())
        except InsufficientStock:
            return 0

    answers = run_concurrently(attempt, 20)

    assert sum(answers) <= 13 and answers.count(2) == 6  # six orders of 2; the 13th unit left alone
    assert all(available >= 0 for available in left(blanket).values())
    assert sum(left(blanket).values()) == 13 - sum(answers)
    assert Allocation.objects.aggregate(n=Sum("quantity"))["n"] == sum(answers)
    assert stock_drift() == {}
