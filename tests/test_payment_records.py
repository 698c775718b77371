"""payments.charge.record and the Stripe deadline: the unit rules under the charge path."""

import time

import pytest
import stripe

from orders.models import Order
from payments import gateway
from payments.charge import record
from payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment():
    order = Order.objects.create(email="a@b.c", shipping_address={}, payment_method="pm_x", total=100, currency="usd")
    return Payment.objects.create(order=order, amount=100, currency="usd", payment_intent_id="pi_1")


@pytest.mark.parametrize("now,late,stays", [
    ("refunded", "succeeded", "refunded"),  # a run paused mid-charge wakes after the refund
    ("failed", "succeeded", "failed"),
    ("succeeded", "failed", "succeeded"),
    ("succeeded", "requires_action", "succeeded"),
    ("requires_action", "pending", "requires_action"),
])
def test_a_payment_never_moves_backwards(payment, now, late, stays):
    Payment.objects.filter(pk=payment.pk).update(status=now)

    result = record(payment, late, "a late outcome")

    assert Payment.objects.get(pk=payment.pk).status == stays
    assert result.status == stays


def test_a_payment_moves_forwards(payment):
    assert record(payment, "requires_action", "3-D Secure", client_secret="pi_1_secret").status == "requires_action"
    assert Payment.objects.get(pk=payment.pk).client_secret == "pi_1_secret"
    assert record(payment, "succeeded", "charged").status == "succeeded"
    assert Payment.objects.get(pk=payment.pk).client_secret == ""  # only while authentication is due


def test_a_stripe_call_ends_by_the_tasks_deadline_not_after_stripe_timeout(stripe_proxy, settings):
    settings.STRIPE_TIMEOUT = 20
    settings.STRIPE_API_BASE = stripe_proxy.url
    gateway.client.cache_clear()
    stripe_proxy.inject("GET", r"/v1/payment_intents/", "timeout")  # holds the request for 6 s
    try:
        started = time.monotonic()
        with pytest.raises(stripe.APIConnectionError), gateway.deadline(1.5):
            gateway.retrieve_intent("pi_slow")
        assert time.monotonic() - started < 3
        with pytest.raises(stripe.APIConnectionError, match="before the task's deadline: not calling Stripe"), \
                gateway.deadline(0.2):
            gateway.retrieve_intent("pi_none")  # not even tried: too little time left
    finally:
        stripe_proxy.clear()
        gateway.client.cache_clear()


def test_a_run_that_hits_the_soft_time_limit_is_retried_and_counted():
    from celery.exceptions import SoftTimeLimitExceeded

    from orders.tasks import fulfill_order

    assert issubclass(SoftTimeLimitExceeded, fulfill_order.autoretry_for)
