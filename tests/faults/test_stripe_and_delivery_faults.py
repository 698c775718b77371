"""Fault matrix: Stripe misbehaving, and the same message delivered many times."""

import pytest

from notifications.models import Notification
from orders.models import Shipment
from payments.models import Payment
from tests.faults.conftest import assert_invariants, wait_final
from tests.realworker import wait_until_idle

CONFIRM = r"/v1/payment_intents/[^/]+/confirm$"
CREATE_INTENT = r"/v1/payment_intents$"


@pytest.mark.parametrize("path,fault,times", [
    (CONFIRM, "500", 2),
    (CONFIRM, "429", 2),
    (CONFIRM, "timeout", 1),  # Stripe charges, the answer comes too late for us
    (CONFIRM, "drop_after", 1),  # Stripe charges, the connection drops before the answer
    (CREATE_INTENT, "drop_after", 1),  # an intent we never heard of is left unconfirmed
])
def test_stripe_faults_are_retried_and_charge_exactly_once(path, fault, times, stack, stripe_proxy, smtp_sink):
    stack.web(), stack.worker()
    stripe_proxy.inject("POST", path, fault, times=times)

    order_id = stack.place(f"stripe-{fault}-{len(path)}@example.com")

    assert wait_final([order_id], timeout=60), stack.logs()
    assert len(stripe_proxy.faults_served()) == times
    assert assert_invariants([order_id], smtp_sink)[order_id].status == "fulfilled"
    assert Payment.objects.get(order_id=order_id).attempts == times + 1


def test_duplicate_deliveries_of_every_task_have_single_effects(stack, smtp_sink):
    stack.web()
    stack.worker("w1"), stack.worker("w2")
    order_ids = [stack.place(f"dup-{i}@example.com") for i in range(4)]
    for order_id in order_ids:
        stack.send("orders.tasks.fulfill_order", order_id, times=5)
    assert wait_final(order_ids), stack.logs()

    for order_id in order_ids:
        stack.send("orders.tasks.create_label", order_id, times=3)
        stack.send("notifications.tasks.send_receipt", order_id, times=3)
        stack.send("orders.tasks.fulfill_order", order_id, times=2)
    assert wait_until_idle(broker_url=stack.redis.url()), stack.logs()

    orders = assert_invariants(order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}
    assert Shipment.objects.filter(order_id__in=order_ids).count() == 4
    assert Notification.objects.filter(order_id__in=order_ids, kind="receipt").count() == 4


def test_sending_through_a_stack_leaves_the_current_celery_app_alone(stack):
    from celery import current_app

    from harbor.celery import app

    stack.send("orders.tasks.fulfill_order", "00000000-0000-4000-8000-000000000000")

    assert current_app._get_current_object() is app
