"""Shared fixtures. The services behind them are real (harbor.devservices.pytest_plugin)."""

import base64
import json
import os
from contextlib import contextmanager, nullcontext

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import ProductFactory

# The multi-host harness (tests/cluster/) needs root and the machine to itself for a quarter of
# an hour: `make cluster-test` runs it, and `make test` (pytest over testpaths) never collects
# it, not even to skip it. Named on the command line (pytest tests/cluster) it is collected.
collect_ignore = ["cluster"]


@pytest.fixture(autouse=True)
def _no_checkout_rate_limit(settings):
    """Tests place many orders from 127.0.0.1 within a minute: the per-IP limit is off unless a
    test turns it on (tests/test_throttling.py). Shops started as processes get it off too."""
    settings.CHECKOUT_RATE_LIMIT = ""


@pytest.fixture(autouse=True)
def _fresh_webhook_subscribers():
    """Which event types anyone subscribed to is kept a few seconds per process; a test's
    subscribers vanish with its transaction (no delete signal): forget them between tests."""
    from webhooks import subscribers

    subscribers.forget()


@pytest.fixture(autouse=True)
def _fresh_pricing_cache():
    """Shipping methods and tax rates are cached in Redis by version (shipping.rates). A test's
    rows vanish with its transaction or flush, which moves no version on: start each test on a
    new version, so no test reads what another one configured."""
    from catalog import cache as versioned

    try:
        versioned._bump("pricing")
    except Exception:  # a test that stops Redis itself
        pass


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
def ops_login(db):
    """ops_login(username): a test Client logged in as a new staff user in the `ops` group."""
    from django.contrib.auth.models import Group, User
    from django.test import Client

    def login(username):
        user = User.objects.create_user(username, f"{username}@example.com", "not-a-secret-3141", is_staff=True)
        user.groups.add(Group.objects.get(name="ops"))  # the group from migration orders/0005_ops_group
        client = Client()
        client.force_login(user)
        return client

    return login


@pytest.fixture
def broker():
    """The real broker (Redis), with the three queues emptied before the test."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("payments", "fulfillment", "notifications", "webhooks")
    yield client
    client.delete("payments", "fulfillment", "notifications", "webhooks")


def queued_tasks(client, queue):
    """(task name, args) of each message waiting in a Celery queue on Redis."""
    tasks = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        tasks.append((message["headers"]["task"], args))
    return tasks


def queued_events(client, queue):
    """(consumer task, event type, order id) of each order event (orders/outbox.py) waiting in a
    queue on Redis; any other task as (task name, args)."""
    from orders.models import OutboxEvent

    events = []
    for task, args in queued_tasks(client, queue):
        if task.endswith(".on_event"):
            event = OutboxEvent.objects.get(pk=args[0])
            events.append((task, event.type, str(event.order_id)))
        else:
            events.append((task, args))
    return events


# --- End-to-end: a real Celery worker, real SMTP, a fault proxy in front of localstripe ---

@pytest.fixture(scope="session")
def smtp_sink():
    from tests.smtpsink import Sink

    sink = Sink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def stripe_proxy():
    from loadtest.faultproxy import FaultProxy

    proxy = FaultProxy(settings.STRIPE_API_BASE).start()
    yield proxy
    proxy.stop()


# --- The broker: Redis (the default), or the real RabbitMQ for the tests marked to run on both ---

BROKERS = ("redis", "rabbitmq")


@pytest.fixture
def broker_kind():
    """The broker a test runs on. A test (or module) marked @pytest.mark.brokers("redis",
    "rabbitmq") runs once on each (pytest_generate_tests below): its id names the broker."""
    return "redis"


def pytest_generate_tests(metafunc):
    marker = metafunc.definition.get_closest_marker("brokers")
    if marker is not None and "broker_kind" in metafunc.fixturenames:
        metafunc.parametrize("broker_kind", marker.args or BROKERS)


def _rabbitmq_vhost():
    from tests import rabbit

    problem = rabbit.unavailable(rabbit.base_url())
    if problem:
        if rabbit.required():
            pytest.fail(f"HARBOR_REQUIRE_RABBITMQ=1 and {problem}", pytrace=False)
        pytest.skip(f"RabbitMQ variant: {problem} (HARBOR_REQUIRE_RABBITMQ=1 makes this a failure)")
    vhost = rabbit.Vhost(rabbit.base_url())
    try:
        yield vhost.create()
    finally:
        vhost.delete()


@pytest.fixture(scope="session")
def rabbitmq():
    """A vhost of this session's own on the RabbitMQ at RABBITMQ_URL, set up by setup_rabbitmq
    and deleted at the end (tests/rabbit.py), for the fault matrix's shops. Unreachable: the
    RabbitMQ variants are skipped, or fail with HARBOR_REQUIRE_RABBITMQ=1 (CI)."""
    yield from _rabbitmq_vhost()


@pytest.fixture(scope="session")
def rabbitmq_e2e():
    """Another for the session's end-to-end worker, which consumes every queue of its vhost
    for the rest of the session: it must never take a fault test's messages."""
    yield from _rabbitmq_vhost()


@contextmanager
def celery_app_publishing_to(url):
    """Meanwhile the test process's Celery app (checkout's publishes, .delay(), group()) sends
    to `url`, with the queue declarations of that kind of broker; then as before."""
    from harbor import brokers
    from harbor.celery import app

    amqp = brokers.is_amqp(url)
    keys = ("broker_url", "task_queues", "broker_transport_options")
    saved, saved_env = {key: app.conf[key] for key in keys}, os.environ.pop("CELERY_BROKER_URL", None)
    saved_amqp, saved_pool = app.__dict__.pop("amqp", None), app._pool  # both cache the broker
    app.conf.update(broker_url=url, task_queues=brokers.queues(amqp),
                    broker_transport_options=brokers.transport_options(amqp, settings.CELERY_VISIBILITY_TIMEOUT))
    app._pool = None
    try:
        yield app
    finally:  # (its connections stay in kombu's global pools, for the next test on this broker)
        app.conf.update(saved)
        app.__dict__.pop("amqp", None)
        if saved_amqp is not None:
            app.__dict__["amqp"] = saved_amqp
        app._pool = saved_pool
        if saved_env is not None:
            os.environ["CELERY_BROKER_URL"] = saved_env


@pytest.fixture(scope="session")
def site_url():
    """Where the browser tests' shop listens (tests/browser/conftest.py live_shop): the links in
    the e-mails the session's workers send (SITE_URL) lead there."""
    from harbor.devservices.base import free_port

    return f"http://127.0.0.1:{free_port()}"


def _start_session_worker(tmp_path_factory, smtp_sink, stripe_proxy, name, site_url, **env):
    from tests.realworker import Worker

    return Worker(tmp_path_factory.mktemp(name) / "worker.log", {
        "STRIPE_API_BASE": stripe_proxy.url,  # the worker talks to Stripe through the fault proxy
        "EMAIL_URL": smtp_sink.url,
        "SITE_URL": site_url,
        "STRIPE_TIMEOUT": "3",
        "TASK_RETRY_BACKOFF": "1",
        "TASK_RETRY_BACKOFF_MAX": "4",
        "LOG_JSON": "1",  # as in production (tests/test_structured_logs.py reads it)
        **env,
    }, name=name).start()


@pytest.fixture(scope="session")
def _session_worker(django_db_setup, smtp_sink, stripe_proxy, tmp_path_factory, site_url):
    worker = _start_session_worker(tmp_path_factory, smtp_sink, stripe_proxy, "e2e", site_url)
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def _session_worker_rabbitmq(django_db_setup, smtp_sink, stripe_proxy, tmp_path_factory, rabbitmq_e2e, site_url):
    worker = _start_session_worker(tmp_path_factory, smtp_sink, stripe_proxy, "e2e-rabbitmq", site_url,
                                   CELERY_BROKER_URL=rabbitmq_e2e.url)
    yield worker
    worker.stop()


@pytest.fixture
def worker(broker_kind, transactional_db, stripe_proxy, request):
    """A running worker for this test, on the test's broker; the test's data is committed so
    the worker sees it. Afterwards it waits for the worker to go idle, so no task outlives the
    test's data. On RabbitMQ, this process's own publishes go to the same vhost meanwhile."""
    from tests.realworker import wait_until_idle

    if broker_kind == "rabbitmq":
        vhost = request.getfixturevalue("rabbitmq_e2e")
        session_worker = request.getfixturevalue("_session_worker_rabbitmq")
        vhost.purge()
        broker_url, publishing = vhost.url, celery_app_publishing_to(vhost.url)
    else:
        session_worker = request.getfixturevalue("_session_worker")
        broker_url, publishing = settings.CELERY_BROKER_URL, nullcontext()
        redis.Redis.from_url(broker_url).delete("payments", "fulfillment", "notifications", "webhooks")
    stripe_proxy.clear()
    with publishing:
        yield session_worker
        idle = wait_until_idle(broker_url=broker_url)
    stripe_proxy.clear()
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:
        print("--- worker log ---\n" + session_worker.tail())
    assert idle, "worker still busy after the test:\n" + session_worker.tail()


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


class StoredLabel:
    """One label file in the labels' storage (PostgreSQL by default), read as a path would be."""

    def __init__(self, storage, name):
        self.storage, self.name = storage, name

    def read_bytes(self):
        with self.storage.open(self.name, "rb") as file:
            return file.read()

    def __eq__(self, other):
        return isinstance(other, StoredLabel) and other.name == self.name

    def __repr__(self):
        return f"StoredLabel({self.name!r})"


def label_files(order_id):
    """The label PDFs stored for the order: one per parcel, however many times create_label
    ran (a second render would be stored beside the first, as <id>-<parcel>_<random>.pdf)."""
    from django.core.files.storage import storages

    storage = storages["labels"]
    _directories, files = storage.listdir("labels")
    return [StoredLabel(storage, f"labels/{name}") for name in files
            if name.startswith(str(order_id)) and name.endswith(".pdf")]


def receipt_emails(smtp_sink, order):
    """The receipt e-mails the SMTP sink received for the order (its subject names the order by
    its reference, HB-10427)."""
    return smtp_sink.to(order.email, f"{order.reference} is on its way")


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


def forget_limits(*patterns):
    """Delete the counts of rate limits kept in Redis (their keys match `patterns`): tests of
    one session share its Redis, and a limit one test reached must not refuse the next."""
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    for pattern in patterns:
        keys = client.keys(cache.make_key(pattern))
        if keys:
            client.delete(*keys)


@pytest.fixture
def fresh_account_limits():
    """django-allauth's limits (sign-ups, e-mail confirmations, failed logins) and Find my
    order's, from zero for this test and the next."""
    patterns = ("allauth:rl:*", "find_order:*")
    forget_limits(*patterns)
    yield
    forget_limits(*patterns)
