"""Shared fixtures. The services behind them are real (harbor.devservices.pytest_plugin)."""

import base64
import json

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import ProductFactory


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def product(db):
    return ProductFactory(sku="MUG-001", unit_price=1800, stock__available=50)


@pytest.fixture
def checkout_body():
    """A valid checkout body; keyword arguments override its fields."""

    def make(**overrides):
        body = {
            "email": "shopper@example.com",
            "lines": [{"sku": "MUG-001", "quantity": 2}],
            "payment_method": "pm_card_visa",
            "shipping_address": {"name": "Ada Lovelace", "line1": "12 Dock Road", "city": "Portsmouth",
                                 "postal_code": "PO1 3AX", "country": "GB"},
        }
        body.update(overrides)
        return body

    return make


@pytest.fixture
def broker():
    """The real broker (Redis), with the three queues emptied before the test."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("payments", "fulfillment", "notifications")
    yield client
    client.delete("payments", "fulfillment", "notifications")


def queued_tasks(client, queue):
    """(task name, args) of each message waiting in a Celery queue on Redis."""
    tasks = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        tasks.append((message["headers"]["task"], args))
    return tasks


# --- End-to-end: a real Celery worker, real SMTP, a fault proxy in front of localstripe ---

@pytest.fixture(scope="session")
def smtp_sink():
    from tests.smtpsink import Sink

    sink = Sink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def stripe_proxy():
    from tests.faultproxy import FaultProxy

    proxy = FaultProxy(settings.STRIPE_API_BASE).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="session")
def _session_worker(django_db_setup, smtp_sink, stripe_proxy, tmp_path_factory):
    from tests.realworker import Worker

    worker = Worker(tmp_path_factory.mktemp("worker") / "worker.log", {
        "STRIPE_API_BASE": stripe_proxy.url,  # the worker talks to Stripe through the fault proxy
        "EMAIL_URL": smtp_sink.url,
        "STRIPE_TIMEOUT": "3",
        "TASK_RETRY_BACKOFF": "1",
        "TASK_RETRY_BACKOFF_MAX": "4",
    }).start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(_session_worker, transactional_db, stripe_proxy, request):
    """A running worker for this test; the test's data is committed so the worker sees it.
    Afterwards it waits for the worker to go idle, so no task outlives the test's data."""
    from tests.realworker import wait_until_idle

    stripe_proxy.clear()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("payments", "fulfillment", "notifications")
    yield _session_worker
    idle = wait_until_idle()
    stripe_proxy.clear()
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:
        print("--- worker log ---\n" + _session_worker.tail())
    assert idle, "worker still busy after the test:\n" + _session_worker.tail()


def pytest_collection_modifyitems(items):
    """Tests with a live worker run last: once it runs it consumes every queue, and a
    test without the `worker` fixture does not wait for it before its data is flushed."""
    items.sort(key=lambda item: "worker" in getattr(item, "fixturenames", ()))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def eventually(check, timeout=10):
    """Poll `check()` until it returns something truthy (or time runs out); return that."""
    import time

    deadline = time.monotonic() + timeout
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def wait_for_status(order_id, statuses, timeout=45):
    """Poll the database until the order reaches one of `statuses`; return the order."""
    import time

    from orders.models import Order

    deadline = time.monotonic() + timeout
    while True:
        order = Order.objects.get(pk=order_id)
        if order.status in statuses or time.monotonic() > deadline:
            return order
        time.sleep(0.1)
