"""Fault matrix: Stripe misbehaving, and the same message delivered many times."""

import pytest

from harbor import failpoints
from orders.models import Order, OutboxEvent
from payments.models import Payment
from tests.conftest import eventually
from tests.faults.conftest import assert_invariants, wait_final
from tests.faults.stack import received

pytestmark = pytest.mark.brokers("redis", "rabbitmq")

CONFIRM = r"/v1/payment_intents/[^/]+/confirm$"
CREATE_INTENT = r"/v1/payment_intents$"


# (path, fault, times, Stripe processed the faulted request?). A 429 is retried as a 500 is
# (tests/test_fulfillment.py has both on a real worker).
STRIPE_FAULTS = [
    (CONFIRM, "500", 2, False),
    (CONFIRM, "timeout", 1, False),  # the confirm never reaches Stripe; we give up waiting
    (CONFIRM, "answer_too_late", 1, True),  # Stripe charges, the answer comes after we gave up
    (CONFIRM, "drop_after", 1, True),  # Stripe charges, the connection drops before the answer
    (CREATE_INTENT, "drop_after", 1, True),  # an intent we never heard of is left unconfirmed
]


@pytest.mark.parametrize("path,fault,times,forwarded", STRIPE_FAULTS,
                         ids=[f"{fault}-{'confirm' if path == CONFIRM else 'create_intent'}"
                              for path, fault, _, _ in STRIPE_FAULTS])
def test_stripe_faults_are_retried_and_charge_exactly_once(path, fault, times, forwarded, stack, stripe_proxy,
                                                           smtp_sink):
    stack.web(), stack.worker()
    stripe_proxy.inject("POST", path, fault, times=times)

    order_id = stack.place(f"stripe-{fault}-{len(path)}@example.com")

    assert wait_final([order_id], timeout=60), stack.logs()
    served = stripe_proxy.faults_served()
    assert [(c.fault, c.for_order(order_id)) for c in served] == [(fault, True)] * times
    # The fault happened as it claims: Stripe did (or did not) process the request, and
    # either way its answer never reached us in time.
    assert all(c.forwarded == forwarded and (c.upstream_status == 200) == forwarded for c in served), served
    if fault != "500":
        assert not any(c.answered for c in served), served
    # Exactly one confirm reached Stripe (a retry looked at the saved intent instead), and
    # exactly one intent was confirmed: one charge (assert_invariants counts it at Stripe).
    assert len(stripe_proxy.reached_stripe("POST", CONFIRM, order_id)) == 1
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"
    assert Payment.objects.get(order_id=order_id).attempts == times + 1


def test_a_delivery_that_finds_the_order_locked_makes_no_stripe_call(stack, stripe_proxy, smtp_sink):
    """The order lock saves the work a duplicate delivery would repeat: while one run holds
    the order, another retries later instead of calling Stripe alongside it."""
    stack.web()
    worker = stack.worker()
    failpoints.arm(stack.redis_client, "charge.before_stripe", "any", "wait:60", times=1)
    order_id = stack.place("locked@example.com")
    assert eventually(lambda: failpoints.hit_log(stack.redis_client, "charge.before_stripe"), 30), stack.logs()
    assert stack.redis_client.exists(f"lock:order:{order_id}")  # the first run holds the order

    stack.send("orders.tasks.fulfill_order", order_id)  # a duplicate delivery meanwhile
    locked = f"orders.tasks.fulfill_order({order_id}): locked by another run"

    def duplicate_done():
        return locked in worker.log_path.read_text(errors="replace") or stripe_proxy.calls("POST", "^/v1/", order_id)

    assert eventually(duplicate_done, 30), worker.tail()
    calls = stripe_proxy.calls("POST", r"^/v1/", order_id)
    assert calls == [], f"the duplicate called Stripe while the first run held the order: {calls}"
    assert locked in worker.log_path.read_text(errors="replace")  # it found the lock taken: retried later
    failpoints.release(stack.redis_client, "charge.before_stripe")

    assert wait_final([order_id]), stack.logs()
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"
    for write in (r"^/v1/customers$", CREATE_INTENT, CONFIRM):  # each Stripe write made once
        assert len(stripe_proxy.calls("POST", write, order_id)) == 1, write


def test_duplicate_deliveries_of_every_task_have_single_effects(stack, smtp_sink):
    stack.web()
    workers = stack.worker("w1"), stack.worker("w2")
    order_ids = [stack.place(f"dup-{i}@example.com") for i in range(4)]
    for order_id in order_ids:
        stack.send("orders.tasks.fulfill_order", order_id, times=5)
    assert wait_final(order_ids), stack.logs()

    # The receipt is the e-mail's answer to the order.paid event: its duplicates are that event's.
    paid = {order_id: str(OutboxEvent.objects.get(order_id=order_id, type="order.paid").pk) for order_id in order_ids}
    for order_id in order_ids:
        stack.send("orders.tasks.create_label", order_id, times=3)
        stack.send("notifications.tasks.on_event", paid[order_id], times=3)
        stack.send("orders.tasks.fulfill_order", order_id, times=2)

    # Counted once every copy has run (assert_invariants settles first), as effects: one
    # label PDF stored, one receipt at the SMTP sink, one charge at Stripe, per order.
    orders = assert_invariants(stack, order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}
    for order_id in order_ids:  # every duplicate was delivered and run
        for task, key, copies in (("orders.tasks.fulfill_order", order_id, 8), ("orders.tasks.create_label", order_id, 4),
                                  ("notifications.tasks.on_event", paid[order_id], 4)):
            ran = [i for w in workers for i in received(w.log_path, task, key, what="succeeded")]
            assert len(ran) >= copies, (task, order_id, len(ran))


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
    orders = assert_invariants(stack, order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}  # none in needs_review, one charge each
    assert all(o.attempts == 0 for o in orders.values())  # transient failures are not attempts


def test_a_run_stopped_by_the_soft_time_limit_is_retried(stack, smtp_sink):
    stack.web()
    worker = stack.worker()  # no beat: only the task's own retry can finish the order
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "sleep:9", times=1)  # soft limit: 8 s

    order_id = stack.place("soft-limit@example.com")

    assert wait_final([order_id], timeout=60), stack.logs()
    assert len(failpoints.hits(stack.redis_client, "charge.before_confirm", "any")) == 1
    assert "SoftTimeLimitExceeded" in worker.log_path.read_text(errors="replace")  # it was stopped there
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"
    assert Order.objects.get(pk=order_id).attempts == 1  # a time limit counts towards the cap
