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


@pytest.mark.parametrize("saved", ["payment_intent_id", "customer_id"])
def test_an_object_stripe_does_not_know_sends_the_order_to_review_not_payment_failed(saved, broker, settings):
    """The PaymentIntent (or Customer) Harbor saved is unknown to the Stripe account it talks to
    now (a swapped key, another account): nobody can tell from here whether money moved."""
    from orders.fulfillment import _still_pending, apply_payment
    from orders.models import OrderEvent
    from payments.charge import charge

    order = Order.objects.create(email="gone@example.com", shipping_address={}, payment_method="pm_card_visa",
                                 total=1800, currency="usd")
    customer = gateway.create_customer(order).id
    fields = {"customer_id": customer, "payment_method_id": "pm_card_visa"}
    fields[saved] = "pi_from_another_account" if saved == "payment_intent_id" else "cus_from_another_account"
    Payment.objects.create(order=order, amount=1800, currency="usd", **fields)

    apply_payment(order, charge(order, may_save_intent=lambda: _still_pending(order.pk)))

    order.refresh_from_db()
    assert order.status == "needs_review"
    assert "Stripe does not know" in OrderEvent.objects.get(order=order, to_status="needs_review").message
    assert Payment.objects.get(order=order).status == "pending"  # not `failed`: that would be a guess
