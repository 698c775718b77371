"""Fixtures for the fault matrix: a fresh shop per test and the closing invariants."""

import pytest
from django.db.models import Sum

from orders.stock import stock_drift
from inventory.models import Stock
from orders.models import Order, OrderLine
from payments.audit import succeeded_charges_by_order
from tests.conftest import eventually, label_files, receipt_emails
from tests.factories import ProductFactory
from tests.faults.stack import Stack

FINAL = {"fulfilled", "payment_failed", "needs_review", "canceled", "refunded"}
INITIAL_STOCK = 200


@pytest.fixture
def product(transactional_db):
    return ProductFactory(sku="MUG-001", unit_price=1800, stock__available=INITIAL_STOCK)


@pytest.fixture
def stack(broker_kind, product, tmp_path, smtp_sink, stripe_proxy, request):
    """A shop of its own for the test, on the test's broker (Redis, or the session's RabbitMQ
    vhost: each fault module runs on both, see pytest_generate_tests in tests/conftest.py);
    @pytest.mark.stack_env(NAME="value") adds settings."""
    rabbitmq = request.getfixturevalue("rabbitmq") if broker_kind == "rabbitmq" else None  # or skip/fail
    stripe_proxy.clear()
    smtp_sink.clear()  # the shop's mail server: the same test on the other broker mails the same addresses
    marker = request.node.get_closest_marker("stack_env")
    shop = Stack(tmp_path, stripe_proxy.url, smtp_sink.url, broker_kind=broker_kind, rabbitmq=rabbitmq,
                 **(marker.kwargs if marker else {})).start()
    yield shop
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:
        print(shop.logs())
    shop.stop()
    stripe_proxy.clear()


def wait_final(order_ids, timeout=90):
    def all_final():
        statuses = dict(Order.objects.filter(pk__in=order_ids).values_list("pk", "status"))
        return len(statuses) == len(order_ids) and set(statuses.values()) <= FINAL

    return eventually(all_final, timeout)


def assert_invariants(stack, order_ids, smtp_sink, sku="MUG-001", initial_stock=INITIAL_STOCK):
    """What every fault test (and each scenario of the multi-host harness, tests/cluster/, on
    its own product `sku`) ends with, whatever the fault was. Counted once nothing more can
    arrive (stack.settle(): no message queued, held, or waiting out a retry's countdown), so
    a late duplicate (a lock retry, a redelivery) is counted too; and counted as effects the
    shopper and the warehouse see (e-mails at the SMTP sink, label PDFs stored, charges at
    Stripe, the order's history), not as rows a unique constraint keeps single anyway."""
    assert stack.settle(), "the shop never went idle:\n" + stack.logs()
    orders = {str(o.pk): o for o in Order.objects.filter(pk__in=order_ids)}
    assert {oid: o.status for oid, o in orders.items() if o.status not in FINAL} == {}, "an order is not final"
    charges = succeeded_charges_by_order()
    for oid, order in orders.items():
        assert charges[oid] <= 1, f"{oid} charged {charges[oid]} times"
        receipts = receipt_emails(smtp_sink, order)
        if order.status == "fulfilled":
            assert charges[oid] == 1, f"{oid} fulfilled without a charge"
            # One label per parcel (one parcel per warehouse the order took stock from).
            parcels = order.shipments.count()
            assert parcels >= 1 and [path.read_bytes()[:4] for path in label_files(oid)] == [b"%PDF"] * parcels, (
                f"{oid}: label files for {parcels} parcels")
            assert len(receipts) == 1, f"{oid}: {len(receipts)} receipt e-mails"
            assert [e.to_status for e in order.events.filter(to_status__in=("paid", "fulfilled"))] == [
                "paid", "fulfilled"], f"{oid}: history"
        else:
            assert receipts == [] and label_files(oid) == [], f"{oid} is {order.status}: no label, no receipt"
        if order.status == "payment_failed":
            assert charges[oid] == 0
    sold = OrderLine.objects.filter(sku=sku, order__status__in=["pending", "paid", "fulfilled", "needs_review"]
                                    ).aggregate(n=Sum("quantity"))["n"] or 0
    assert Stock.objects.get(product__sku=sku).available == initial_stock - sold, f"{sku}: stock"
    assert stock_drift() == {}
    return orders
