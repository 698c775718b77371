"""Fault matrix: the broker, Redis and PostgreSQL failing under a running shop."""

import json
import time
import uuid

import pytest
import requests
from django.db import connection
from django_celery_results.models import TaskResult
from kombu import Connection

from harbor import brokers, failpoints
from harbor.devservices.base import pid_alive
from orders.models import Order
from payments.models import Payment
from tests.conftest import eventually
from tests.faults.conftest import assert_invariants, wait_final
from tests.faults.stack import received

pytestmark = pytest.mark.brokers("redis", "rabbitmq")


def test_the_broker_lost_mid_run_loses_no_order(broker_kind, stack, smtp_sink):
    stack.web(), stack.beat()
    worker = stack.worker(concurrency=3)
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "wait:60", times=3)
    order_ids = [stack.place(f"broker-lost-{i}@example.com") for i in range(8)]
    # Mid-run: three runs are charging (each holds its order, its intent saved and not
    # confirmed), the other orders' messages wait in the broker.
    assert eventually(lambda: len(failpoints.hit_log(stack.redis_client, "charge.before_confirm")) == 3, 30)
    running = [order_id for _, order_id in failpoints.hit_log(stack.redis_client, "charge.before_confirm")]
    assert set(Order.objects.filter(pk__in=running).values_list("status", flat=True)) == {"pending"}
    assert Payment.objects.filter(order_id__in=running, payment_intent_id__isnull=False).count() == 3
    assert stack.queued("payments") >= 1, "nothing waited in the broker"
    waiting = [o for o in order_ids if o not in running]  # not started: their messages are in the broker
    assert not Payment.objects.filter(order_id__in=waiting).exists()
    if broker_kind == "redis":
        assert stack.redis_client.hlen("unacked") >= 3  # the running deliveries, not yet acknowledged

        stack.restart_redis(down_for=1)  # queued messages, unacked messages and locks are all gone
        assert stack.queued("payments") == 0 and not stack.redis_client.hlen("unacked")
    else:  # every connection cut for a second: deliveries in flight go back to the (durable) quorum queues
        stack.broker_down()
        time.sleep(1)
        stack.broker_back()
    failpoints.release(stack.redis_client, "charge.before_confirm", times=3)  # the runs go on
    order_ids += [stack.place(f"broker-after-{i}@example.com") for i in range(4)]

    assert wait_final(order_ids, timeout=120), stack.logs()
    orders = assert_invariants(stack, order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}
    if broker_kind == "redis":  # what Redis lost, reconciliation sent again
        assert reconciled("fulfill_order") >= len(waiting), worker.tail()


def reconciled(action):
    """How many times reconciliation (Beat's reconcile_stuck_orders) did `action`, from its results."""
    results = TaskResult.objects.filter(task_name="orders.tasks.reconcile_stuck_orders", status="SUCCESS")
    return sum(json.loads(r.result or "{}").get(action, 0) for r in results)


def worker_backends(pid):
    """The PostgreSQL backends serving process `pid` (matched by its client sockets' ports)."""
    import psutil

    server_port = int(connection.settings_dict["PORT"])
    ports = [c.laddr.port for c in psutil.Process(pid).net_connections("tcp")
             if c.raddr and c.raddr.port == server_port]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND client_port = ANY(%s)",
                       [ports])
        return [row[0] for row in cursor.fetchall()]


def test_the_workers_database_connection_killed_mid_task(stack, smtp_sink):
    stack.web()
    worker = stack.worker()
    failpoints.arm(stack.redis_client, "charge.before_confirm", "any", "wait:60", times=1)
    order_id = stack.place("pg-kill@example.com")
    assert eventually(lambda: failpoints.hit_log(stack.redis_client, "charge.before_confirm"), 30), stack.logs()
    [(pid, _)] = failpoints.hit_log(stack.redis_client, "charge.before_confirm")
    [backend] = worker_backends(pid)  # the pool child running the order's charge, and only its connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
        assert cursor.fetchone()[0] is True
    failpoints.release(stack.redis_client, "charge.before_confirm")

    assert wait_final([order_id]), stack.logs()
    assert "terminating connection due to administrator command" in worker.log_path.read_text(errors="replace")
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"


def test_checkout_with_the_broker_down_is_accepted_and_fulfilled_once_it_is_back(broker_kind, stack, smtp_sink):
    stack.web(), stack.worker(), stack.beat()
    stack.broker_down()

    started = time.monotonic()
    order_id = stack.place("broker-down@example.com")
    answered_in = time.monotonic() - started
    assert Order.objects.get(pk=order_id).status == "pending"
    health = requests.get(stack.web_url + "/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["broker"] == "down"

    stack.broker_back()  # same port; nobody acts: beat's reconciliation re-enqueues the order

    assert could_not_publish(stack, order_id)  # the fault: the publish itself failed
    assert wait_final([order_id], timeout=90), stack.logs()
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"
    assert reconciled("fulfill_order") >= 1
    assert answered_in < (10 if broker_kind == "redis" else 1.5), answered_in


@pytest.mark.brokers("rabbitmq")
def test_checkout_with_the_broker_blackholed_answers_within_a_second_and_is_fulfilled_once_it_is_back(
        stack, smtp_sink):
    """RabbitMQ unreachable (TCP accepted, never answered): the connect timeout bounds the
    checkout, whether the web process connects afresh or its pooled connection has stalled."""
    stack.web(), stack.worker(), stack.beat()
    answered_in, order_ids = [], []

    def place_blackholed(email):
        stack.broker_blackholed()
        started = time.monotonic()
        order_ids.append(stack.place(email))
        answered_in.append(time.monotonic() - started)
        assert Order.objects.get(pk=order_ids[-1]).status == "pending"
        assert could_not_publish(stack, order_ids[-1])
        health = requests.get(stack.web_url + "/healthz", timeout=10)
        assert health.status_code == 503 and health.json()["broker"] == "down"
        stack.broker_back()

    place_blackholed("blackholed-fresh@example.com")  # the web process's first connection
    order_ids.append(stack.place("between@example.com"))  # a pooled connection, working...
    place_blackholed("blackholed-pooled@example.com")  # ...then stalled

    assert wait_final(order_ids, timeout=90), stack.logs()
    orders = assert_invariants(stack, order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}
    assert max(answered_in) < 1.5, answered_in


def could_not_publish(stack, order_id):
    """The web process logged that its publish of the order's fulfill_order failed."""
    web_logs = [p.log_path for p in stack.processes if p.log_path.name.startswith("web")]
    text = "".join(path.read_text(errors="replace") for path in web_logs)
    return f"could not publish orders.tasks.fulfill_order for order {order_id}" in text


def test_web_process_dying_between_commit_and_publish_loses_nothing(stack, smtp_sink):
    stack.web(), stack.beat()
    worker = stack.worker()
    failpoints.arm(stack.redis_client, "checkout.before_publish", "any", "kill", times=1)
    body = {"email": "web-dies@example.com", "lines": [{"sku": "MUG-001", "quantity": 1}],
            "payment_method": "pm_card_visa", "shipping_address": {"name": "A", "line1": "1 Road", "city": "C",
                                                                  "postal_code": "P", "country": "GB"}}

    with pytest.raises(requests.ConnectionError):  # the gunicorn worker died after commit: no answer
        requests.post(stack.web_url + "/api/orders/", json=body, timeout=15)

    [(pid, order_id)] = failpoints.hit_log(stack.redis_client, "checkout.before_publish")
    assert not pid_alive(pid)  # the web worker that committed the order is dead
    # Committed and never published: pending, untouched, and no worker ever got its task.
    assert Order.objects.get(pk=order_id).status == "pending" and not Payment.objects.filter(order_id=order_id)
    assert received(worker.log_path, "orders.tasks.fulfill_order", order_id) == []
    assert wait_final([order_id], timeout=90), stack.logs()
    assert assert_invariants(stack, [order_id], smtp_sink)[order_id].status == "fulfilled"
    assert reconciled("fulfill_order") >= 1  # the way out: reconciliation sent it


class Exploit:
    """Unpickling this would create a file: proof of code execution."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_message_is_refused_and_nothing_runs(stack, tmp_path, product):
    from orders.models import Order as OrderModel

    worker = stack.worker()
    order = OrderModel.objects.create(email="pickle@example.com", shipping_address={}, payment_method="pm_card_visa",
                                      total=1800, currency="usd")  # pending, never enqueued
    marker = tmp_path / "executed"
    task_id = str(uuid.uuid4())
    [payments] = [q for q in brokers.queues(brokers.is_amqp(stack.broker_url)) if q.name == "payments"]
    with Connection(stack.broker_url) as conn:
        conn.Producer(serializer="pickle").publish(
            ([str(order.pk), Exploit(str(marker))], {}, {"callbacks": None, "errbacks": None, "chain": None,
                                                          "chord": None}),
            exchange=payments.exchange, routing_key="payments", declare=[payments],
            headers={"lang": "py", "task": "orders.tasks.fulfill_order", "id": task_id, "root_id": task_id,
                     "parent_id": None, "group": None, "retries": 0, "argsrepr": "", "kwargsrepr": ""},
        )

    assert eventually(lambda: b"ContentDisallowed" in worker.log_path.read_bytes()
                      or b"untrusted content" in worker.log_path.read_bytes(), 30), worker.tail()
    assert stack.wait_until_idle(timeout=10)  # consumed and dropped
    time.sleep(1)
    assert not marker.exists()
    order.refresh_from_db()
    assert order.status == "pending" and not hasattr(order, "payment")


def test_two_beat_processes_at_once_fulfil_each_stuck_order_once(stack, smtp_sink):
    from orders.checkout import place_order
    from catalog.models import Product

    stack.worker(concurrency=3)
    mug = Product.objects.get(sku="MUG-001")
    address = {"name": "A", "line1": "1 Road", "line2": "", "city": "C", "postal_code": "P", "country": "GB"}
    # Orders whose fulfill_order message never reached this shop's broker: stuck pending.
    order_ids = [str(place_order(email=f"stuck-{i}@example.com", lines=[{"product": mug, "quantity": 1}],
                                 payment_method="pm_card_visa", shipping_address=address)[0].pk) for i in range(6)]
    Order.objects.filter(pk__in=order_ids).update(updated_at=Order.objects.get(pk=order_ids[0]).created_at)

    # Each with a lease of its own, so both send (harbor/beat.py): even two Beats sending at
    # once, as a lapsed lease could briefly allow, fulfil each order once.
    beats = (stack.beat("beat1", reconcile_interval=1, BEAT_LEASE_KEY="test:beat1"),
             stack.beat("beat2", reconcile_interval=1, BEAT_LEASE_KEY="test:beat2"))

    assert wait_final(order_ids, timeout=90), stack.logs()
    assert all("Sending due task Reconcile stuck orders" in beat.log_path.read_text() for beat in beats)
    assert reconciled("fulfill_order") == len(order_ids)  # each stuck order sent once, by one of them
    orders = assert_invariants(stack, order_ids, smtp_sink)
    assert {o.status for o in orders.values()} == {"fulfilled"}
    assert all(o.events.filter(to_status="paid").count() == 1 for o in orders.values())
