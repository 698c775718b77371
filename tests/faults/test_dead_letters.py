"""Fault matrix: poison tasks. A delivery that can never succeed is not retried forever:
the order's attempt cap sends the order to needs_review, and on RabbitMQ the failed
deliveries end in the dead-letter queue (harbor.dlx → dead_letters, policy harbor-dlx set by
setup_rabbitmq), where ops can see and replay them, instead of vanishing."""

import re

import pytest

from harbor import failpoints
from orders.models import Order, OrderEvent
from tests.conftest import eventually
from tests.faults.conftest import assert_invariants, wait_final

pytestmark = pytest.mark.brokers("redis", "rabbitmq")


@pytest.mark.stack_env(FULFILL_MAX_ATTEMPTS="3")
def test_a_task_failing_with_an_unexpected_error_is_dead_lettered_and_its_order_reviewed(broker_kind, stack,
                                                                                          smtp_sink):
    stack.web(), stack.worker(), stack.beat()
    failpoints.arm(stack.redis_client, "fulfill.start", "any", "raise", times=None)  # every run fails

    order_id = stack.place("dead-letter@example.com")

    # Each run fails for good (no retry: not a transient error) and counts as an attempt; its
    # message is rejected, not acknowledged (CELERY_TASK_ACKS_ON_FAILURE=False); reconciliation
    # sends the order again; the run after the third failure gives up.
    assert wait_final([order_id], timeout=90), stack.logs()
    order = Order.objects.get(pk=order_id)
    assert order.status == "needs_review" and order.attempts == 3
    # Given up by the fourth run, or by reconciliation before sending it: either way after 3.
    review = OrderEvent.objects.get(order=order, to_status="needs_review")
    assert re.search(r"\b3 (times|fulfillment runs)", review.message), review.message
    assert len(failpoints.hits(stack.redis_client, "fulfill.start", "any")) == 3
    assert_invariants(stack, [order_id], smtp_sink)
    if broker_kind == "rabbitmq":  # Redis drops a rejected message; RabbitMQ dead-letters it
        assert eventually(lambda: len(stack.dead_letters()) >= 3, 10)
        assert [(d["task"], d["args"], d["reason"], d["queue"]) for d in stack.dead_letters()] == [
            ("orders.tasks.fulfill_order", [order_id], "rejected", "payments")] * 3


@pytest.mark.brokers("rabbitmq")
def test_a_message_that_kills_its_worker_every_time_is_dead_lettered_at_the_delivery_limit(stack, smtp_sink):
    stack.set_delivery_limit(2)  # setup_rabbitmq --delivery-limit 2: a message is delivered 3 times at most
    stack.web(), stack.worker()  # no beat yet: nothing sends the order again
    failpoints.arm(stack.redis_client, "fulfill.received", "any", "kill", times=None)

    order_id = stack.place("delivery-limit@example.com")

    # Killed before it takes the order's lock (so before the attempt cap sees a run), the
    # delivery is requeued after each death (reject_on_worker_lost), until the policy's
    # delivery limit: then RabbitMQ dead-letters it instead of redelivering it forever.
    assert eventually(lambda: stack.dead_letters(), 60), stack.logs()
    assert [(d["task"], d["args"], d["reason"], d["queue"]) for d in stack.dead_letters()] == [
        ("orders.tasks.fulfill_order", [order_id], "delivery_limit", "payments")]
    assert len(failpoints.hits(stack.redis_client, "fulfill.received", "any")) == 3
    assert Order.objects.get(pk=order_id).status == "pending"

    # Dead-lettered is not lost: once the fault is gone, reconciliation sends the order again.
    failpoints.disarm(stack.redis_client, "fulfill.received", "any")
    stack.beat()
    assert wait_final([order_id], timeout=60), stack.logs()
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"
