"""Fault matrix: Stripe misbehaving, and the same message delivered many times."""

import pytest

from harbor import failpoints
from notifications.models import Notification
from orders.models import Order, Shipment
from payments.models import Payment
from tests.conftest import eventually
from tests.faults.conftest import assert_invariants, wait_final

pytestmark = pytest.mark.brokers("redis", "rabbitmq")

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
    assert stack.wait_until_idle(), stack.logs()

    orders = assert_invariants(order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}
    assert Shipment.objects.filter(order_id__in=order_ids).count() == 4
    assert Notification.objects.filter(order_id__in=order_ids, kind="receipt").count() == 4


def test_sending_through_a_stack_leaves_the_current_celery_app_alone(stack):
    from celery import current_app

    from harbor.celery import app

    stack.send("orders.tasks.fulfill_order", "00000000-0000-4000-8000-000000000000")

    assert current_app._get_current_object() is app


@pytest.mark.stack_env(TASK_MAX_RETRIES="2")
def test_a_stripe_outage_longer_than_the_retry_budget_is_not_a_review_queue(stack, stripe_proxy, smtp_sink):
    stack.web(), stack.worker(), stack.beat()
    stripe_proxy.inject("POST", r"/v1/customers$", "503", times=100_000)  # Stripe is down
    order_ids = [stack.place(f"outage-{i}@example.com") for i in range(3)]

    # Each order: a run and its 2 retries fail, then reconciliation sends it again, and again.
    assert eventually(lambda: len(stripe_proxy.faults_served()) >= 18, 90), stack.logs()
    assert set(Order.objects.filter(pk__in=order_ids).values_list("status", flat=True)) == {"pending"}
    stripe_proxy.clear()  # Stripe is back

    assert wait_final(order_ids, timeout=90), stack.logs()
    orders = assert_invariants(order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}  # none in needs_review, one charge each
    assert all(o.attempts == 0 for o in orders.values())  # transient failures are not attempts


def test_a_run_stopped_by_the_soft_time_limit_is_retried(stack, smtp_sink):
    stack.web(), stack.worker()  # no beat: only the task's own retry can finish the order
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "sleep:9", times=1)  # soft limit: 8 s

    order_id = stack.place("soft-limit@example.com")

    assert wait_final([order_id], timeout=60), stack.logs()
    assert assert_invariants([order_id], smtp_sink)[order_id].status == "fulfilled"
    assert Order.objects.get(pk=order_id).attempts == 1  # a time limit counts towards the cap
