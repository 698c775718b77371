"""A RabbitMQ cluster as a list of its nodes' URLs: a node that stops answering costs one
publish its budget, never the publishes after it, and a worker moves on to a live node.

The "nodes" are the machine's RabbitMQ (a vhost of this module's own) reached at different
addresses: through TcpProxy instances (tests/tcpproxy.py) that a test blackholes (a lost
host or a partition: connections accepted or held, nothing answered) or cuts (a dead node:
refused), and directly. The publish budget is CELERY_BROKER_CONNECTION_TIMEOUT (1 s,
harbor/enqueue.py); a publish that outlives it by far fails the test instead of hanging it.
"""

import threading
import time

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings
from django_celery_results.models import TaskResult
from kombu.exceptions import OperationalError

from harbor import brokers, enqueue
from tests import rabbit
from tests.conftest import _rabbitmq_vhost, celery_app_publishing_to, eventually
from tests.tcpproxy import TcpProxy

BUDGET = settings.CELERY_BROKER_CONNECTION_TIMEOUT
HUNG = 15  # seconds: a publish still waiting by then is hung, not slow


@pytest.fixture(scope="module")
def vhost():
    yield from _rabbitmq_vhost()  # skipped (or failed with HARBOR_REQUIRE_RABBITMQ=1) without RabbitMQ


@pytest.fixture
def node(vhost):
    """Start a "node": a proxy in front of the vhost's broker, stopped after the test."""
    started = []

    def start():
        proxy = TcpProxy(vhost.host, vhost.port).start()
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.stop()


def cluster(vhost, *proxies):
    """The broker URL list: each proxy's address, then the broker itself (the live node)."""
    return ";".join([*(vhost.via(p.address) for p in proxies), vhost.url])


def timed(publish):
    """(seconds, the exception or None) of one publish, run in a thread so that a hung publish
    fails the test."""
    outcome = {}

    def run():
        start = time.monotonic()
        try:
            publish()
        except Exception as exc:
            outcome["error"] = exc
        outcome["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HUNG)
    if thread.is_alive():
        pytest.fail(f"a publish still waits after {HUNG} s (budget {BUDGET} s)", pytrace=False)
    return outcome["seconds"], outcome.get("error")


def send(order_id):
    return lambda: enqueue.send("orders.tasks.fulfill_order", order_id)


def publishes_after(vhost, url, n=5):
    """n more checkout publishes: each must reach the broker within the budget."""
    before = rabbit.ready(vhost.url)["payments"]
    for i in range(n):
        seconds, error = timed(send(f"after-{i}"))
        assert error is None, f"publish {i} after the fault failed: {error!r}"
        assert seconds < BUDGET, f"publish {i} after the fault took {seconds:.2f} s"
    assert rabbit.ready(vhost.url)["payments"] == before + n


def test_a_first_node_that_never_answers_costs_one_publish_its_budget_not_the_next_ones(vhost, node):
    silent = node()
    silent.blackhole()  # its host is gone: the handshake is never answered
    url = cluster(vhost, silent)
    vhost.purge()
    with celery_app_publishing_to(url):
        seconds, error = timed(send("first"))
        assert isinstance(error, OperationalError) and seconds < BUDGET + 0.5, (seconds, error)

        publishes_after(vhost, url)


def test_a_node_that_goes_silent_under_an_open_connection_costs_one_publish_its_budget(vhost, node):
    first = node()
    url = cluster(vhost, first)
    vhost.purge()
    with celery_app_publishing_to(url):
        assert timed(send("before"))[1] is None
        assert first.connections() >= 1, "the publish did not go through the first node"
        first.blackhole()  # a partition: the open connection stops moving bytes

        seconds, error = timed(send("during"))  # its confirm never comes
        assert error is not None and seconds < 2.5 * BUDGET, (seconds, error)

        publishes_after(vhost, url)


def test_a_spent_budget_does_not_cut_short_the_next_publish_of_the_process(vhost, node):
    """A checkout's publish ran out of its budget; the process's next publish without one (a
    task's retry, a Beat send: Celery's own retry policy) still tries every node."""
    silent, dead = node(), node()
    silent.blackhole()
    dead.cut()  # refused
    url = cluster(vhost, silent, dead)
    vhost.purge()
    with celery_app_publishing_to(url) as app:
        assert isinstance(timed(send("spent"))[1], OperationalError)

        seconds, error = timed(lambda: app.send_task("orders.tasks.fulfill_order", args=["next"]))

        assert error is None, f"the next publish gave up: {error!r}"
        assert seconds < BUDGET
    assert rabbit.ready(vhost.url)["payments"] == 1


def test_a_worker_moves_to_a_live_node_when_its_node_goes_silent(vhost, node, transactional_db, tmp_path):
    """Its node's host is lost: no RST, nothing answers. The worker notices within a few
    heartbeats (CELERY_BROKER_HEARTBEAT, 10 s) and consumes from the next node."""
    from tests.realworker import Worker

    first = node()
    url = cluster(vhost, first)
    vhost.purge()
    worker = Worker(tmp_path / "worker.log", {"CELERY_BROKER_URL": url}, concurrency=1, name="failover").start()
    try:
        with celery_app_publishing_to(vhost.url) as app:  # the test publishes to the live node directly
            def ran(task_ids, timeout):
                return eventually(lambda: TaskResult.objects.filter(task_id__in=task_ids, status="SUCCESS").count()
                                  == len(task_ids), timeout)

            assert ran([app.send_task("loadtest.tasks.noop").id], 30), worker.tail()
            assert first.connections() >= 1, "the worker does not consume through the first node"

            first.blackhole()
            silenced = time.monotonic()
            task_ids = [app.send_task("loadtest.tasks.noop").id for _ in range(3)]

            assert ran(task_ids, 60), "nothing consumed a minute after its node went silent:\n" + worker.tail()
            print(f"consumed {time.monotonic() - silenced:.1f} s after the node went silent")
    finally:
        first.restore()
        worker.stop()


def test_a_confirmed_publish_without_a_budget_gives_up_on_a_silent_node(vhost, node, settings):
    """A worker's own publishes (its task events) set no confirm timeout: py-amqp would wait for
    the ack for ever, and the worker's event loop with it. Every channel Harbor opens caps it."""
    from harbor.celery import app

    settings.CELERY_BROKER_CONFIRM_TIMEOUT = 1
    first = node()
    # Confirms as in production (brokers.transport_options on AMQP); the tests' own broker is Redis.
    with app.connection_for_write(url=vhost.via(first.address), transport_options={"confirm_publish": True}) as conn:
        channel = conn.default_channel
        channel.basic_publish(channel.prepare_message(b"before"), exchange="", routing_key="nowhere")
        first.blackhole()

        seconds, error = timed(lambda: channel.basic_publish(channel.prepare_message(b"during"), exchange="",
                                                             routing_key="nowhere"))
        conn.collect()  # no Close/Close-Ok with the silent node on the way out (kombu's own error path)

    assert error is not None and seconds < 3, (seconds, error)


def test_the_worker_declares_delayed_delivery_once_per_cluster_not_per_node():
    from harbor import failover
    from harbor.celery import app

    assert app.conf.worker_consumer == "harbor.failover:Consumer"
    steps = failover.Consumer.Blueprint.default_steps
    assert "harbor.failover:ClusterDelayedDelivery" in steps
    assert not any(step.endswith(":DelayedDelivery") for step in steps)


def test_setup_rabbitmq_works_when_the_first_node_is_down(vhost, node):
    dead = node()
    dead.cut()
    url = cluster(vhost, dead)
    with override_settings(CELERY_BROKER_URL=url, BROKER_IS_AMQP=True, RABBITMQ_MANAGEMENT_URL=""):
        from io import StringIO

        out = StringIO()
        call_command("setup_rabbitmq", stdout=out)
    assert "declared: payments, fulfillment, notifications, webhooks, dead_letters" in out.getvalue()
    assert "replicas of payments: " in out.getvalue()


def test_healthz_finds_the_broker_up_while_any_node_answers(api, db, vhost, node, monkeypatch):
    silent, dead = node(), node()
    silent.blackhole()
    dead.cut()
    with celery_app_publishing_to(cluster(vhost, silent, dead)):  # /healthz checks the app's pool
        response = api.get("/healthz")

    assert response.json()["broker"] == "ok"


# --- the list itself ---------------------------------------------------------------------------

def test_a_list_of_urls_is_one_rabbitmq_cluster():
    url = "amqp://u:secret@rabbit1:5672/harbor; amqp://u:secret@rabbit2:5672/harbor;amqp://u:secret@rabbit3/harbor"

    assert brokers.urls(url) == ["amqp://u:secret@rabbit1:5672/harbor", "amqp://u:secret@rabbit2:5672/harbor",
                                 "amqp://u:secret@rabbit3/harbor"]
    assert brokers.is_amqp(url) and brokers.vhost_of(url) == "harbor"
    assert "secret" not in brokers.safe(url) and brokers.safe(url).count("rabbit") == 3
    assert brokers.check_urls(url) == brokers.urls(url)


@pytest.mark.parametrize("url,why", [
    ("amqp://u:p@rabbit1/harbor;redis://redis:6379/0", "nodes of one RabbitMQ cluster"),
    ("amqp://u:p@rabbit1/harbor;amqp://u:p@rabbit2/other", "different vhosts"),
])
def test_a_list_that_is_not_one_cluster_is_refused(url, why):
    with pytest.raises(ImproperlyConfigured, match=why):
        brokers.check_urls(url)


def test_the_workers_use_heartbeats_and_round_robin_failover():
    from harbor.celery import app

    assert app.conf.broker_heartbeat == settings.CELERY_BROKER_HEARTBEAT == 10
    assert app.conf.broker_failover_strategy == "round-robin"
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_HEARTBEAT"):
        brokers.check_timing(soft=45, hard=60, lock_ttl=90, backoff_max=120, amqp=True, visibility_timeout=600,
                             consumer_timeout=1800, prefetch_multiplier=1, heartbeat=0)
