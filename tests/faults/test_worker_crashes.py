"""Fault matrix: workers that die, stop, or shut down in the middle of fulfilling orders."""

import os
import signal
import time

from harbor import failpoints
from orders.models import Order, OrderEvent
from payments.models import Payment
from tests.conftest import eventually
from tests.faults.conftest import assert_invariants, wait_final
from tests.faults.stack import pool_children


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


def test_lock_expires_while_its_holder_is_paused(stack, smtp_sink):
    stack.web()
    first = stack.worker("w1")
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "sleep:1", times=1)
    order_id = stack.place("paused@example.com")
    assert eventually(lambda: failpoints.hits(stack.redis_client, "charge.before_confirm", "any"), 30)

    first.signal_group(signal.SIGSTOP)  # the holder (and its time limit) freeze
    time.sleep(13)  # past the 12 s lock TTL
    assert not stack.redis_client.exists(f"lock:order:{order_id}")
    stack.worker("w2")
    stack.send("orders.tasks.fulfill_order", order_id)  # a redelivery reaches the second worker
    assert wait_final([order_id], timeout=60), stack.logs()
    first.signal_group(signal.SIGCONT)  # the first holder wakes mid-charge
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
