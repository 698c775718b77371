"""Fault matrix: workers that die, stop, or shut down in the middle of fulfilling orders."""

import os
import signal
import time

import pytest

from harbor import failpoints
from orders.models import Order, OrderEvent
from payments.models import Payment
from tests.conftest import eventually
from tests.faults.conftest import assert_invariants, wait_final
from tests.faults.stack import pool_children

pytestmark = pytest.mark.brokers("redis", "rabbitmq")


def test_pool_child_killed_before_the_stripe_call(stack, smtp_sink):
    stack.web(), stack.worker()
    failpoints.arm(stack.redis_client, "charge.before_stripe", "any", "kill", times=1)

    order_id = stack.place("kill-before@example.com")

    assert wait_final([order_id]), stack.logs()
    assert failpoints.hits(stack.redis_client, "charge.before_stripe", "any")  # it really died there
    orders = assert_invariants([order_id], smtp_sink)
    assert orders[order_id].status == "fulfilled"


def test_pool_child_killed_after_stripe_charged_but_before_the_database_write(stack, smtp_sink):
    stack.web(), stack.worker()
    failpoints.arm(stack.redis_client, "charge.after_confirm", "any", "kill", times=1)

    order_id = stack.place("kill-after@example.com")

    assert wait_final([order_id]), stack.logs()
    assert len(failpoints.hits(stack.redis_client, "charge.after_confirm", "any")) == 1  # died there once
    orders = assert_invariants([order_id], smtp_sink)
    assert orders[order_id].status == "fulfilled"
    assert Payment.objects.get(order_id=order_id).attempts == 2


def test_whole_worker_killed_then_a_new_one_started(stack, smtp_sink):
    stack.web(), stack.beat()
    worker = stack.worker()
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "sleep:30", times=1)
    order_id = stack.place("kill-all@example.com")
    assert eventually(lambda: failpoints.hits(stack.redis_client, "charge.before_confirm", "any"), 30)

    worker.kill()  # main process and children, mid-task: the message stays unacknowledged
    stack.worker("w2")

    assert wait_final([order_id], timeout=90), stack.logs()
    orders = assert_invariants([order_id], smtp_sink)
    assert orders[order_id].status == "fulfilled"


def test_the_procfiles_threads_payments_worker_killed_after_stripe_charged(stack, smtp_sink):
    """Production's payments worker is one process with a threads pool: a crash takes all its
    charges at once, and no pool child is left to report the lost task. The next worker
    finds each intent at Stripe and settles it: one charge per order."""
    stack.web(), stack.beat()
    stack.worker("labels", queues=("fulfillment", "notifications"))
    payments = stack.worker("payments", concurrency=8, queues=("payments",), pool="threads")
    failpoints.arm(stack.redis_client, "charge.after_confirm", "any", "sleep:30", times=3)
    order_ids = [stack.place(f"threads-{i}@example.com") for i in range(3)]
    assert eventually(lambda: len(failpoints.hits(stack.redis_client, "charge.after_confirm", "any")) == 3, 30)
    assert set(failpoints.hits(stack.redis_client, "charge.after_confirm", "any")) == {payments.pid}  # one process

    payments.kill()  # all three charged at Stripe, none recorded
    stack.worker("payments2", concurrency=8, queues=("payments",), pool="threads")

    assert wait_final(order_ids, timeout=90), stack.logs()
    orders = assert_invariants(order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}


def test_warm_shutdown_finishes_the_running_task(stack, smtp_sink):
    stack.web()
    worker = stack.worker()
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "sleep:3", times=1)
    order_id = stack.place("sigterm@example.com")
    assert eventually(lambda: failpoints.hits(stack.redis_client, "charge.before_confirm", "any"), 30)

    worker.process.send_signal(signal.SIGTERM)  # warm shutdown: finish what is running, take nothing new
    worker.process.wait(30)
    assert Order.objects.get(pk=order_id).status in ("paid", "fulfilled")  # the charge completed
    stack.worker("w2")  # fan-out tasks left in the queue are picked up

    assert wait_final([order_id]), stack.logs()
    assert assert_invariants([order_id], smtp_sink)[order_id].status == "fulfilled"


def test_lock_expires_while_its_holder_is_paused(broker_kind, stack, smtp_sink):
    stack.web()
    first = stack.worker("w1")
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "sleep:1", times=1)
    order_id = stack.place("paused@example.com")
    assert eventually(lambda: failpoints.hits(stack.redis_client, "charge.before_confirm", "any"), 30)

    first.signal_group(signal.SIGSTOP)  # the holder (and its time limit) freeze
    time.sleep(13)  # past the 12 s lock TTL
    assert not stack.redis_client.exists(f"lock:order:{order_id}")
    stack.worker("w2")
    # A redelivery reaches the second worker. (RabbitMQ pushes: the frozen worker has room for
    # one more delivery in its prefetch and may be sent the first copy, as a real one would be.)
    stack.send("orders.tasks.fulfill_order", order_id, times=1 if broker_kind == "redis" else 2)
    assert eventually(lambda: Order.objects.get(pk=order_id).status != "pending", 60), stack.logs()  # charged
    if broker_kind == "redis":
        assert wait_final([order_id], timeout=60), stack.logs()
    # (On RabbitMQ the fan-out may have been pushed to the frozen worker too, which has room
    # in its prefetch: it runs once the worker wakes, or the broker drops its connection.)
    first.signal_group(signal.SIGCONT)  # the first holder wakes mid-charge
    assert wait_final([order_id], timeout=60), stack.logs()
    time.sleep(4)

    orders = assert_invariants([order_id], smtp_sink)
    assert orders[order_id].status == "fulfilled"
    assert OrderEvent.objects.filter(order_id=order_id, to_status="paid").count() == 1


def test_a_task_that_kills_its_worker_every_time_ends_in_needs_review(stack, smtp_sink):
    stack.web(), stack.worker()
    failpoints.arm(stack.redis_client, "fulfill.start", "any", "kill", times=None)
    order_id = stack.place("poison@example.com")

    assert wait_final([order_id], timeout=120), stack.logs()

    order = Order.objects.get(pk=order_id)
    assert order.status == "needs_review"
    assert "without finishing" in OrderEvent.objects.get(order=order, to_status="needs_review").message
    assert len(failpoints.hits(stack.redis_client, "fulfill.start", "any")) == 5  # FULFILL_MAX_ATTEMPTS
    assert_invariants([order_id], smtp_sink)


def test_killing_random_pool_children_loses_and_doubles_nothing(stack, smtp_sink):
    stack.web(), stack.beat()
    worker = stack.worker(concurrency=3)
    order_ids = []
    for i in range(12):
        order_ids.append(stack.place(f"chaos-{i}@example.com"))
        if i % 3 == 2 and (children := pool_children(worker.pid)):
            os.kill(children[i % len(children)], signal.SIGKILL)

    assert wait_final(order_ids, timeout=120), stack.logs()
    orders = assert_invariants(order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}
