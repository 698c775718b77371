"""What counts towards an order's attempt cap (orders.fulfillment.begin_run / end_run)."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from kombu.exceptions import OperationalError as BrokerUnavailable

from orders import fulfillment
from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def running_order():
    order = Order.objects.create(email="cap@example.com", shipping_address={}, payment_method="pm_card_visa",
                                 total=1800, currency="usd")
    assert fulfillment.begin_run(order.pk)
    return order


def attempts(order):
    order.refresh_from_db()
    assert order.run_started_at is None  # every end of a run clears its mark
    return order.attempts


def test_a_broker_outage_while_the_run_publishes_is_transient_not_an_attempt(running_order):
    fulfillment.end_run(running_order.pk, BrokerUnavailable("[Errno 111] Connection refused"))
    assert attempts(running_order) == 0


def test_an_unexpected_error_is_an_attempt(running_order):
    fulfillment.end_run(running_order.pk, RuntimeError("bug"))
    assert attempts(running_order) == 1


def test_a_soft_time_limit_is_an_attempt_although_it_is_retried(running_order):
    fulfillment.end_run(running_order.pk, SoftTimeLimitExceeded())
    assert attempts(running_order) == 1


def test_a_run_that_died_is_counted_by_the_next_one(running_order):
    assert fulfillment.begin_run(running_order.pk)  # the previous run never ended
    fulfillment.end_run(running_order.pk)
    assert attempts(running_order) == 1
