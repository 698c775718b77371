"""Money in an order's history reads as the rest of the admin shows it ("$105.00"), not as
minor units and a code ("10500 usd"): the charge recorded by the task and by the webhook."""

import time
import uuid
from types import SimpleNamespace

import pytest

from orders import payment_events
from orders.models import Order, OrderEvent
from payments.charge import _settle
from payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def payment():
    order = Order.objects.create(email="shopper@example.com", payment_method="pm_card_visa", total=10500,
                                 currency="usd", status="pending", shipping_address={"name": "Ada"})
    return Payment.objects.create(order=order, amount=10500, currency="usd",
                                  payment_intent_id=f"pi_{uuid.uuid4().hex[:24]}")


def test_the_charge_task_records_the_amount_as_money(payment):
    intent = SimpleNamespace(id=payment.payment_intent_id, status="succeeded", amount=10500, currency="usd")

    result = _settle(payment, intent)

    assert result.message == f"Charged $105.00 ({intent.id})."


def test_the_payment_succeeded_webhook_records_the_amount_as_money(payment, django_capture_on_commit_callbacks):
    intent = {"id": payment.payment_intent_id, "object": "payment_intent", "amount": 10500, "currency": "usd",
              "status": "succeeded", "metadata": {"order_id": str(payment.order_id)}}
    event = {"id": "evt_money", "type": "payment_intent.succeeded", "created": int(time.time()),
             "data": {"object": intent}}

    with django_capture_on_commit_callbacks():  # the fan-out is not this test's business
        payment_events.apply(event)

    assert OrderEvent.objects.get(order_id=payment.order_id, to_status="paid").message == (
        f"Charged $105.00 ({intent['id']}).")
