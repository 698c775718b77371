"""Fault matrix: outbound webhooks against a real receiver process that fails, goes down,
answers too slowly, or has the worker sending to it killed mid-POST (issue 18, part 4).

Each test places orders through the whole pipeline (gunicorn, Celery workers laid out as in
the Procfile: a `webhooks` worker of its own, threads pool; Beat with the deliver_due sweep and
reconciliation; localstripe), with one subscriber added by add_webhook_subscriber, and the
receiver of tests/webhook_receiver.py: it checks every signature from the contract's rule,
dedupes by the event id, and records every request at arrival.

In each case (`received_everything`): every public event of every order reached the receiver,
deduped by id, in sequence order per order, nothing else did, and every delivery is
`delivered`; and the test proves its fault happened (the receiver's own record of the 500s, the
slow answers or the held request; the shop's Attempt log of the errors; the killed worker's
pid gone). Each prints one line of counts (sent, delivered, requests, duplicates, missing).

Timings are test-scale (stack_env): a 1 s POST timeout, backoff from 0.5 s doubling to at most
2 s, a lease of timeout + 2 s, the deliver_due sweep every 2 s.
"""

import os
import re
import signal
import time

import pytest
from django.core.management import call_command
from django.db.models import Count

from harbor import failpoints
from harbor.devservices.base import pid_alive
from orders.models import OutboxEvent
from orders.outbox import PUBLIC_TYPES
from tests.conftest import eventually
from tests.faults.conftest import assert_invariants, wait_final
from tests.faults.test_worker_crashes import VISIBILITY, wait_until_redis_would_redeliver
from tests.webhook_receiver import Receiver
from webhooks.models import Attempt, Delivery, Subscriber

pytestmark = pytest.mark.brokers("redis", "rabbitmq")

SECRET = "whsec_fault_receiver"
SWEEP = 2  # seconds between deliver_due runs (Beat)
FAST = {"WEBHOOK_TIMEOUT": "1", "WEBHOOK_RETRY_BASE": "0.5", "WEBHOOK_RETRY_MAX_BACKOFF": "2",
        "WEBHOOK_LEASE_MARGIN": "2", "WEBHOOK_SWEEP_INTERVAL": str(SWEEP)}
ORDERS = 6


@pytest.fixture
def receiver(tmp_path):
    root = tmp_path / "receiver"
    root.mkdir()
    hook = Receiver(root, SECRET)
    yield hook
    if hook.up:
        hook.release()  # a held request (the SIGKILL test) answers, to nobody
    hook.stop()


def open_shop(stack, receiver, settings, webhook_worker=True):
    """The subscriber (as ops add it), then the shop: web, a worker for payments, fulfillment
    and e-mails, the Procfile's webhooks worker (threads pool), and Beat, whose schedule
    (written from this process's settings) runs deliver_due every SWEEP s."""
    call_command("add_webhook_subscriber", receiver.url, secret=SECRET, events="all", stdout=open(os.devnull, "w"))
    settings.WEBHOOK_SWEEP_INTERVAL = SWEEP
    stack.web()
    stack.worker("w1", queues=("payments", "fulfillment", "notifications"))
    hooks = webhooks_worker(stack) if webhook_worker else None
    stack.beat()
    return hooks


def webhooks_worker(stack, name="webhooks"):
    return stack.worker(name, queues=("webhooks",), pool="threads", concurrency=4)


def public_events(order_ids):
    return {str(e.event_id): e for e in OutboxEvent.objects.filter(order_id__in=order_ids, type__in=PUBLIC_TYPES)}


def all_delivered(order_ids):
    """Every public event of the orders has its delivery, and each is delivered."""
    expected = set(public_events(order_ids))
    statuses = dict(Delivery.objects.filter(event__order_id__in=order_ids).values_list("event__event_id", "status"))
    return expected and {str(k) for k in statuses} == expected and set(statuses.values()) == {"delivered"}


def received_everything(name, stack, receiver, order_ids, smtp_sink):
    """The closing checks of every test here (see the module's docstring); returns the
    receiver's records and the deliveries, and prints the counts."""
    assert wait_final(order_ids, timeout=120), stack.logs()
    assert eventually(lambda: all_delivered(order_ids), 120), (
        list(Delivery.objects.exclude(status="delivered").values("pk", "status", "attempts", "last_error")),
        stack.logs())
    orders = assert_invariants(stack, order_ids, smtp_sink)  # settles first: nothing more can arrive
    assert {o.status for o in orders.values()} == {"fulfilled"}

    subscriber = Subscriber.objects.get()
    events = public_events(order_ids)
    deliveries = {str(d.event.event_id): d for d in Delivery.objects.filter(subscriber=subscriber)
                  .select_related("event")}
    # The shop's side: one delivery per public event of these orders, no other, all delivered.
    assert set(deliveries) == set(events)
    assert {d.status for d in deliveries.values()} == {"delivered"}
    assert subscriber.active and subscriber.failing_since is None

    records = receiver.records()
    assert [r for r in records if not r["signature_ok"]] == [], "a delivery failed the contract's signature check"
    accepted = sorted((r for r in records if r["accepted"]), key=lambda r: r["arrived"])
    firsts = [r for r in accepted if not r["duplicate"]]
    received = {r["event_id"] for r in accepted}
    missing, extra = set(events) - received, received - set(events)
    assert missing == set(), f"never reached the receiver: {[events[e].type for e in missing]}"
    assert extra == set(), f"the receiver got events the shop never emitted: {extra}"
    assert len(firsts) == len(received)  # deduped by id: each event processed once
    for r in accepted:  # what arrived is what the shop meant to send
        delivery = deliveries[r["event_id"]]
        assert (r["body_id"], r["type"], r["sequence"], r["order_id"]) == (
            r["event_id"], delivery.event.type, delivery.sequence, str(delivery.order_id))
    for order_id in order_ids:
        # Sequence order per order: the order's history (events by id) has increasing sequence
        # numbers, and that is the order they reached the receiver in, duplicates included.
        history = [d.sequence for d in sorted((d for d in deliveries.values() if str(d.order_id) == order_id),
                                              key=lambda d: d.event_id)]
        assert history == sorted(history) and len(history) >= 4, history  # created, paid, shipment, fulfilled
        arrived = [r["sequence"] for r in accepted if r["order_id"] == order_id]
        first_arrivals = [r["sequence"] for r in firsts if r["order_id"] == order_id]
        assert first_arrivals == history and arrived == sorted(arrived), (order_id, history, arrived)

    duplicates = sum(r["duplicate"] for r in records)
    faulted = sum(r["behaviour"] != "ok" for r in records)
    # The shop's side of the faults: its failed attempts, by kind ("HTTP 500", "ReadTimeout",
    # "ConnectionError": refused while the receiver was down).
    failed = _count(e.split(":", 1)[0] for e in Attempt.objects.filter(delivery__subscriber=subscriber)
                    .exclude(error="").values_list("error", flat=True))
    print(f"\n{name} [{stack.broker_kind}]: {len(order_ids)} orders; sent {len(deliveries)} deliveries "
          f"({Attempt.objects.filter(delivery__subscriber=subscriber).count()} attempts, failed: {failed}), "
          f"delivered {sum(d.status == 'delivered' for d in deliveries.values())}; receiver got {len(records)} "
          f"requests ({faulted} faulted: {dict(sorted(_count(r['behaviour'] for r in records).items()))}), "
          f"{duplicates} duplicates deduped, missing={len(missing)}")
    return records, deliveries


def _count(values):
    counts = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def deliver_runs(worker, delivery_pk):
    """What the worker's log says of its webhooks.tasks.deliver runs for the delivery: the ids of
    the messages it was handed, and [(message id, outcome)] of the runs it finished."""
    text = worker.log_path.read_text(errors="replace")
    args = rf"'args': '\({delivery_pk},\)'"
    return (re.findall(rf"Task webhooks\.tasks\.deliver\[([0-9a-f-]+)\] received\b.*{args}", text),
            re.findall(rf"Task webhooks\.tasks\.deliver\[([0-9a-f-]+)\] succeeded in \S+: '([a-z ]+)'.*{args}", text))


def attempts_with(error_part):
    return Attempt.objects.filter(error__contains=error_part)


FAIL_FIRST = 8


@pytest.mark.stack_env(**FAST)
def test_receiver_failing_the_first_deliveries_gets_every_event_through_retries(stack, receiver, settings,
                                                                                smtp_sink):
    receiver.start(fail_first=FAIL_FIRST)
    open_shop(stack, receiver, settings)

    order_ids = [stack.place(f"hook-fail-{i}@example.com") for i in range(ORDERS)]

    records, deliveries = received_everything("fail_first_N", stack, receiver, order_ids, smtp_sink)
    # The fault: the receiver answered 500 to its first N requests, and the shop logged each
    # as a failed attempt of a delivery that was then tried again, after its backoff, and delivered.
    failed = [r for r in records if r["behaviour"] == "fail"]
    assert len(failed) == FAIL_FIRST and [r["n"] for r in failed] == list(range(1, FAIL_FIRST + 1))
    assert attempts_with("HTTP 500").count() == FAIL_FIRST
    for r in failed:
        delivery = deliveries[r["event_id"]]
        log = list(delivery.attempt_log.order_by("number"))
        assert delivery.attempts == len(log) >= 2 and log[-1].status_code == 200 and log[0].status_code == 500
        assert all((b.started_at - a.started_at).total_seconds() >= 0.8 * 0.5 for a, b in zip(log, log[1:]))  # backoff
    assert sum(r["duplicate"] for r in records) == 0  # a 500 is not processed: nothing to dedupe


DOWN_FOR = 8  # seconds: several backoffs (at most 2 s each) fail meanwhile


@pytest.mark.stack_env(**FAST)
def test_receiver_down_for_a_while_then_back_gets_every_event(stack, receiver, settings, smtp_sink):
    receiver.start()
    open_shop(stack, receiver, settings)
    before = [stack.place(f"hook-down-{i}@example.com") for i in range(ORDERS // 2)]
    assert eventually(lambda: len(receiver.records()) >= 3, 60), stack.logs()  # it was up, and receiving

    receiver.stop()  # down: the port refuses connections
    down_at = time.time()
    during = [stack.place(f"hook-down-{i}@example.com") for i in range(ORDERS // 2, ORDERS)]
    # A receiver that is down delays no charge: the orders placed meanwhile are fulfilled.
    assert wait_final(during, timeout=120), stack.logs()
    # The fault, seen by the shop: connections refused, and tried again while it stays down
    # (some delivery has failed at least three times).
    assert eventually(lambda: Attempt.objects.filter(error__contains="Connection refused").values("delivery")
                      .annotate(n=Count("pk")).filter(n__gte=3).exists(), 60), stack.logs()
    time.sleep(max(0.0, DOWN_FOR - (time.time() - down_at)))  # the outage lasts DOWN_FOR s at least
    up_at = time.time()  # (just before it is back: nothing can arrive earlier)
    receiver.start()  # back, on the same port, with the same dedupe store

    records, deliveries = received_everything("down_then_back", stack, receiver, before + during, smtp_sink)
    assert not [r for r in records if down_at < r["arrived"] < up_at]  # it really was down
    refused = attempts_with("Connection refused")
    assert refused.count() >= 3 and all(a.status_code is None for a in refused)
    # Every order placed while it was down was delivered only after it came back.
    late = [d for d in deliveries.values() if str(d.order_id) in during]
    assert late and all(d.delivered_at.timestamp() >= up_at for d in late)
    assert {r["pid"] for r in records if r["arrived"] >= up_at} == {receiver.process.pid}


SLOW_FIRST, SLOW_SECONDS = 4, 2.5  # past WEBHOOK_TIMEOUT (1 s)


@pytest.mark.stack_env(**FAST)
def test_receiver_answering_slower_than_the_timeout_gets_every_event_once_deduped(stack, receiver, settings,
                                                                                  smtp_sink):
    receiver.start(slow_first=SLOW_FIRST, slow_seconds=SLOW_SECONDS)
    open_shop(stack, receiver, settings)

    order_ids = [stack.place(f"hook-slow-{i}@example.com") for i in range(ORDERS)]

    records, deliveries = received_everything("slow_past_timeout", stack, receiver, order_ids, smtp_sink)
    # The fault: the receiver took its first N past the timeout; the shop gave up on each after
    # WEBHOOK_TIMEOUT (a read timeout in the Attempt log) and sent it again, which the receiver
    # (that had processed the first copy) deduped.
    slow = [r for r in records if r["behaviour"] == "slow"]
    assert len(slow) == SLOW_FIRST
    timeouts = attempts_with("ReadTimeout")
    assert timeouts.count() == SLOW_FIRST and all(900 <= a.latency_ms < SLOW_SECONDS * 1000 for a in timeouts)
    for r in slow:
        assert deliveries[r["event_id"]].attempts >= 2
        assert any(d["duplicate"] and d["event_id"] == r["event_id"] for d in records)
    assert sum(r["duplicate"] for r in records) >= SLOW_FIRST


LEASE_TIMEOUT = 6  # WEBHOOK_TIMEOUT here: long enough to kill the worker while it waits for the answer
# VISIBILITY (14 s, test_worker_crashes): on Redis the killed worker's unacknowledged messages
# come back to the next worker started after it; wait_until_redis_would_redeliver waits for that.


@pytest.mark.stack_env(**{**FAST, "WEBHOOK_TIMEOUT": str(LEASE_TIMEOUT), "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY)})
def test_webhooks_worker_sigkilled_mid_post_delivery_is_sent_again_after_its_lease(stack, receiver, settings,
                                                                                   smtp_sink):
    """The worker dies while the receiver holds its POST (the receiver has processed the event;
    the shop never got the answer). The delivery stays claimed until its lease runs out
    (WEBHOOK_TIMEOUT + WEBHOOK_LEASE_MARGIN after the claim), then a new worker sends it again
    (the broker's redelivery or deliver_due, whichever comes first after the lease), and the
    receiver dedupes the second copy."""
    receiver.start(hold_first=1, hold_seconds=120)
    failpoints.forget(stack.redis_client, "webhook.before_post")
    failpoints.arm(stack.redis_client, "webhook.before_post", "any", "note", times=None)  # who posts what
    open_shop(stack, receiver, settings, webhook_worker=False)
    order_ids = [stack.place(f"hook-kill-{i}@example.com") for i in range(ORDERS)]
    # The orders' events wait in the webhooks queue; the worker starts with plenty to do.
    assert wait_final(order_ids, timeout=120), stack.logs()
    first = webhooks_worker(stack, "webhooks-1")

    assert eventually(lambda: receiver.status()["held"] == 1, 60), stack.logs()
    [held] = [r for r in receiver.records() if r["behaviour"] == "hold"]
    delivery = Delivery.objects.get(event__event_id=held["event_id"])
    [(pid, _)] = [hit for hit in failpoints.hit_log(stack.redis_client, "webhook.before_post")
                  if hit[1] == held["order_id"]][-1:]
    assert pid == first.pid  # the threads pool: the worker's own process is the one posting
    # Mid-delivery: claimed under a lease, not yet answered, no attempt logged.
    assert delivery.status == "pending" and delivery.claimed_until.timestamp() > time.time()
    assert not delivery.attempt_log.exists()
    lease_end = delivery.claimed_until.timestamp()

    os.kill(pid, signal.SIGKILL)
    first.process.wait(10)
    killed_at = time.time()
    assert first.process.returncode == -signal.SIGKILL and not pid_alive(pid)
    assert not Attempt.objects.filter(delivery=delivery).exists()  # it died before it could log the try
    wait_until_redis_would_redeliver(stack)
    second = webhooks_worker(stack, "webhooks-2")
    second_ready_at = time.time()

    records, deliveries = received_everything("sigkill_mid_post", stack, receiver, order_ids, smtp_sink)
    copies = [r for r in records if r["event_id"] == held["event_id"]]
    assert [c["duplicate"] for c in copies] == [False, True], copies  # the held one, then one more, deduped
    lease = LEASE_TIMEOUT + int(FAST["WEBHOOK_LEASE_MARGIN"])
    assert copies[1]["arrived"] >= max(killed_at, copies[0]["arrived"] + lease - 1)  # not before the lease ran out
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1  # the killed try left no mark but the lease
    [attempt] = delivery.attempt_log.all()
    assert attempt.status_code == 200 and attempt.started_at.timestamp() >= killed_at
    hits_after = {p for p, o in failpoints.hit_log(stack.redis_client, "webhook.before_post") if o == held["order_id"]}
    assert second.pid in hits_after  # the new worker sent it
    # The dead worker's message for the delivery (acks_late) went back to the broker and on to
    # the new worker. RabbitMQ hands it back as the connection drops: the new worker gets it
    # while the lease still holds and leaves it ('not due'); deliver_due sends the delivery once
    # the lease has run out. (Redis hands it back only after the visibility timeout, 14 s,
    # past the lease: there the returned message may itself deliver.)
    killed_ids = set(deliver_runs(first, delivery.pk)[0])
    handed_back, runs = deliver_runs(second, delivery.pk)
    assert killed_ids & set(handed_back), (killed_ids, handed_back)
    if stack.broker_kind == "rabbitmq" and second_ready_at < lease_end - 1:
        assert "not due" in [outcome for task_id, outcome in runs if task_id in killed_ids], runs
    assert [outcome for _, outcome in runs].count("delivered") == 1, runs
