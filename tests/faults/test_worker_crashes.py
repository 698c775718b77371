"""Fault matrix: workers that die, stop, or shut down in the middle of fulfilling orders.

Each test proves that its fault happened where it says: the failpoint reports the pid that
reached it and for which order, the test checks the order's state at that moment, kills
that very pid, and reads the worker's own account of the death. The redelivery tests run
without Beat, so no reconciliation can stand in for the broker handing the message back:
with acks_late or reject_on_worker_lost off, they fail (tests/faults/README.md)."""

import os
import signal
import time

import pytest
from django_celery_results.models import TaskResult

from harbor import failpoints
from orders.models import Order, OrderEvent
from payments import gateway
from payments.models import Payment
from tests.conftest import eventually
from tests.faults.conftest import assert_invariants, wait_final
from tests.faults.stack import pool_children, received

pytestmark = pytest.mark.brokers("redis", "rabbitmq")
FULFILL = "orders.tasks.fulfill_order"


def reached(stack, name, count=1, timeout=30):
    """Wait until `count` processes hit the armed failpoint; [(pid, order id)] of the hits."""
    assert eventually(lambda: len(failpoints.hit_log(stack.redis_client, name)) >= count, timeout), stack.logs()
    return failpoints.hit_log(stack.redis_client, name)


def worker_lost(worker, pid):
    """The worker's log says its pool child `pid` died under a running task."""
    text = worker.log_path.read_text(errors="replace")
    return f"pid:{pid} exited with 'signal 9 (SIGKILL)'" in text and "WorkerLostError" in text


def redelivered(worker_logs, order_id):
    """The order's one fulfill_order message was delivered more than once (a message sent
    again by reconciliation or a duplicate would have an id of its own)."""
    ids = [task_id for log in worker_logs for task_id in received(log, FULFILL, order_id)]
    return len(ids) >= 2 and len(set(ids)) == 1


def charged_at_stripe_not_recorded(order_id):
    """The moment between Stripe's charge and our write: Stripe says succeeded, we say pending."""
    payment = Payment.objects.get(order_id=order_id)
    return (payment.status == "pending" and payment.payment_intent_id
            and gateway.retrieve_intent(payment.payment_intent_id).status == "succeeded")


def no_reconciliation_ran():
    return not TaskResult.objects.filter(task_name="orders.tasks.reconcile_stuck_orders").exists()


def test_pool_child_killed_before_the_stripe_call(stack, smtp_sink):
    stack.web()
    worker = stack.worker()  # no beat: only the redelivery (reject_on_worker_lost) can save the order
    failpoints.arm(stack.redis_client, "charge.before_stripe", "any", "kill", times=1)

    order_id = stack.place("kill-before@example.com")

    assert wait_final([order_id]), stack.logs()
    [(pid, hit_order)] = failpoints.hit_log(stack.redis_client, "charge.before_stripe")
    assert hit_order == order_id and worker_lost(worker, pid), worker.tail()  # it really died there
    assert redelivered([worker.log_path], order_id) and no_reconciliation_ran()
    assert Order.objects.get(pk=order_id).attempts == 1  # the next run found the dead run's mark
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"


def test_pool_child_killed_after_stripe_charged_but_before_the_database_write(stack, smtp_sink):
    stack.web()
    worker = stack.worker()  # no beat
    failpoints.arm(stack.redis_client, "charge.after_confirm", "any", "wait:60", times=1)
    order_id = stack.place("kill-after@example.com")
    [(pid, hit_order)] = reached(stack, "charge.after_confirm")
    assert hit_order == order_id and pid in pool_children(worker.pid)
    assert charged_at_stripe_not_recorded(order_id)

    os.kill(pid, signal.SIGKILL)

    assert wait_final([order_id]), stack.logs()
    assert worker_lost(worker, pid), worker.tail()
    assert redelivered([worker.log_path], order_id) and no_reconciliation_ran()
    assert Payment.objects.get(order_id=order_id).attempts == 2  # the second run found the charge at Stripe
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"


# Redis hands an unacknowledged message back once it has been unacknowledged for the
# visibility timeout (30 s in the other tests; 14 s here keeps the timing rule, lock TTL 12 s
# < visibility, and the test short), when a worker sweeps for such messages: as it starts,
# then only every ~100 s (kombu's unacked_restore_interval × unacked_restore_throttle).
VISIBILITY = 14


def wait_until_redis_would_redeliver(stack):
    """On Redis, until the dead worker's unacknowledged messages are past the visibility
    timeout, so the next worker takes them back as it starts. (RabbitMQ requeues them as soon
    as the dead worker's connection drops.)"""
    if stack.broker_kind == "redis":
        delivered = [score for _, score in stack.redis_client.zrange("unacked_index", 0, -1, withscores=True)]
        assert delivered, "nothing was left unacknowledged"
        time.sleep(max(0.0, max(delivered) + VISIBILITY + 1 - time.time()))


@pytest.mark.stack_env(CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY))
def test_whole_worker_killed_then_a_new_one_started(stack, smtp_sink):
    stack.web()  # no beat: the order is saved by the broker redelivering the message (acks_late)
    first = stack.worker()
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "wait:60", times=1)
    order_id = stack.place("kill-all@example.com")
    [(pid, hit_order)] = reached(stack, "charge.before_confirm")
    assert hit_order == order_id and pid in pool_children(first.pid)
    assert Order.objects.get(pk=order_id).status == "pending"

    first.kill()  # main process and children, mid-task: the message stays unacknowledged
    wait_until_redis_would_redeliver(stack)
    second = stack.worker("w2")

    assert wait_final([order_id], timeout=90), stack.logs()
    assert redelivered([first.log_path, second.log_path], order_id), second.tail()
    assert received(second.log_path, FULFILL, order_id) and no_reconciliation_ran()
    assert Order.objects.get(pk=order_id).attempts == 1  # w2's run found the killed run's mark
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"


@pytest.mark.stack_env(CELERY_VISIBILITY_TIMEOUT=str(VISIBILITY))
def test_the_procfiles_threads_payments_worker_killed_after_stripe_charged(stack, smtp_sink):
    """Production's payments worker is one process with a threads pool: a crash takes all its
    charges at once, and no pool child is left to report the lost task. The broker hands the
    messages to the next worker (no Beat here), which finds each intent at Stripe and settles
    it: one charge per order."""
    stack.web()
    stack.worker("labels", queues=("fulfillment", "notifications"))
    payments = stack.worker("payments", concurrency=8, queues=("payments",), pool="threads")
    failpoints.arm(stack.redis_client, "charge.after_confirm", "any", "wait:60", times=3)
    order_ids = [stack.place(f"threads-{i}@example.com") for i in range(3)]
    hits = reached(stack, "charge.after_confirm", count=3)
    assert {pid for pid, _ in hits} == {payments.pid} and {o for _, o in hits} == set(order_ids)  # one process
    assert all(charged_at_stripe_not_recorded(order_id) for order_id in order_ids)

    payments.kill()  # all three charged at Stripe, none recorded
    wait_until_redis_would_redeliver(stack)
    second = stack.worker("payments2", concurrency=8, queues=("payments",), pool="threads")

    assert wait_final(order_ids, timeout=90), stack.logs()
    assert all(redelivered([payments.log_path, second.log_path], o) for o in order_ids) and no_reconciliation_ran()
    orders = assert_invariants(stack, order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}
    assert all(Payment.objects.get(order_id=o).attempts == 2 for o in order_ids)  # settled by a second run


def test_warm_shutdown_finishes_the_running_task(stack, smtp_sink):
    stack.web()
    worker = stack.worker()
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "wait:60", times=1)
    order_id = stack.place("sigterm@example.com")
    [(pid, _)] = reached(stack, "charge.before_confirm")
    assert pid in pool_children(worker.pid) and Order.objects.get(pk=order_id).status == "pending"

    worker.process.send_signal(signal.SIGTERM)  # warm shutdown: finish what is running, take nothing new
    time.sleep(1)
    assert worker.process.poll() is None  # still running: it waits for the task
    failpoints.release(stack.redis_client, "charge.before_confirm")
    worker.process.wait(30)
    assert Order.objects.get(pk=order_id).status in ("paid", "fulfilled")  # the charge completed
    assert received(worker.log_path, FULFILL, order_id, what="succeeded"), worker.tail()  # this run
    stack.worker("w2")  # fan-out tasks left in the queue are picked up

    assert wait_final([order_id]), stack.logs()
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"
    assert Payment.objects.get(order_id=order_id).attempts == 1  # one run did it all


def test_lock_expires_while_its_holder_is_paused(broker_kind, stack, stripe_proxy, smtp_sink):
    stack.web()
    first = stack.worker("w1")
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "wait:60", times=1)
    order_id = stack.place("paused@example.com")
    [(pid, _)] = reached(stack, "charge.before_confirm")
    # The holder is mid-charge: it holds the order's lock, its intent is saved, not confirmed.
    assert pid in pool_children(first.pid) and stack.redis_client.exists(f"lock:order:{order_id}")
    intent_id = Payment.objects.get(order_id=order_id).payment_intent_id
    assert gateway.retrieve_intent(intent_id).status == "requires_confirmation"

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
    failpoints.release(stack.redis_client, "charge.before_confirm")
    first.signal_group(signal.SIGCONT)  # the first holder wakes mid-charge, its lock long gone
    assert wait_final([order_id], timeout=60), stack.logs()

    orders = assert_invariants(stack, [order_id], smtp_sink)
    assert orders[order_id].status == "fulfilled"
    assert OrderEvent.objects.filter(order_id=order_id, to_status="paid").count() == 1
    assert len(stripe_proxy.reached_stripe("POST", r"/confirm$", order_id, status=200)) == 1


def test_a_task_that_kills_its_worker_every_time_ends_in_needs_review(stack, smtp_sink):
    stack.web(), stack.worker()
    failpoints.arm(stack.redis_client, "fulfill.start", "any", "kill", times=None)
    order_id = stack.place("poison@example.com")

    assert wait_final([order_id], timeout=120), stack.logs()

    order = Order.objects.get(pk=order_id)
    assert order.status == "needs_review"
    assert "without finishing" in OrderEvent.objects.get(order=order, to_status="needs_review").message
    assert len(failpoints.hits(stack.redis_client, "fulfill.start", "any")) == 5  # FULFILL_MAX_ATTEMPTS
    assert_invariants(stack, [order_id], smtp_sink)


def test_killing_pool_children_mid_charge_loses_and_doubles_nothing(stack, smtp_sink):
    """Every pool child killed while it runs an order's charge, among 12 orders: two before
    the confirm, one after Stripe charged and before we recorded it. No Beat: every killed
    delivery is redelivered (reject_on_worker_lost) and finished by a new child."""
    stack.web()
    worker = stack.worker(concurrency=3)
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "wait:60", times=2)
    failpoints.arm(stack.redis_client, "charge.after_confirm", "any", "wait:60", times=1)
    order_ids = [stack.place(f"chaos-{i}@example.com") for i in range(12)]

    killed = []  # (pid, order id, failpoint): each pid killed while it waited there
    give_up = time.monotonic() + 60
    while len(killed) < 3:
        assert time.monotonic() < give_up, f"only {len(killed)} children reached a failpoint\n" + stack.logs()
        for point in ("charge.before_confirm", "charge.after_confirm"):
            for pid, order_id in failpoints.hit_log(stack.redis_client, point):
                if (pid, order_id, point) in killed:
                    continue
                assert pid in pool_children(worker.pid) and Order.objects.get(pk=order_id).status == "pending"
                if point == "charge.after_confirm":
                    assert charged_at_stripe_not_recorded(order_id)
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, order_id, point))
        time.sleep(0.1)

    assert wait_final(order_ids, timeout=120), stack.logs()
    assert all(worker_lost(worker, pid) for pid, _, _ in killed), worker.tail()
    assert all(Order.objects.get(pk=order_id).attempts >= 1 for _, order_id, _ in killed)
    assert no_reconciliation_ran()
    orders = assert_invariants(stack, order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}

