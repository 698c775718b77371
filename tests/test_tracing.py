"""Tracing: the trace a checkout request starts continues in fulfill_order and its fan-out
(create_label, and the receipt from the order.paid event), across a real Celery worker process.

The worker is configured like production, by environment only (OTEL_EXPORTER_OTLP_ENDPOINT):
its spans go over OTLP/HTTP to a small receiver this module runs, which decodes them with
opentelemetry-proto. The web side is either this test process, with the SDK's in-memory
exporter on a provider of its own (no global tracer provider is left behind), or a real
gunicorn started with the Procfile's line, exporting to the same receiver.
"""

import os
import shlex
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
import requests
from django.conf import settings
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rest_framework.test import APIClient

from harbor import telemetry
from harbor.devservices.base import free_port
from loadtest.shop import procfile
from orders.models import Order
from tests import realworker
from tests.conftest import eventually, wait_for_status
from tests.factories import ProductFactory

SERVER, PRODUCER, CONSUMER = "SERVER", "PRODUCER", "CONSUMER"
BODY = {"email": "tracer@example.com", "lines": [{"sku": "MUG-001", "quantity": 1}], "payment_method": "pm_card_visa",
        "shipping_address": {"name": "Ada Lovelace", "line1": "12 Dock Road", "city": "Portsmouth",
                             "postal_code": "PO1 3AX", "country": "GB"}}
# The label, and the receipt: notifications' answer to the order.paid event, published after
# fulfill_order's commit (orders/outbox.py), so in its trace like the label.
FAN_OUT = ("orders.tasks.create_label", "notifications.tasks.on_event")
KINDS = {1: "INTERNAL", 2: SERVER, 3: "CLIENT", 4: PRODUCER, 5: CONSUMER}


class Receiver:
    """An OTLP/HTTP trace receiver: every span it was sent, as a dict."""

    def __init__(self):
        self.spans, self._lock = [], threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                request = ExportTraceServiceRequest()
                request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.add(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"  # the exporter adds /v1/traces
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, request):
        spans = []
        for resource_spans in request.resource_spans:
            service = next(a.value.string_value for a in resource_spans.resource.attributes if a.key == "service.name")
            for scope_spans in resource_spans.scope_spans:
                for s in scope_spans.spans:
                    spans.append({"service": service, "name": s.name, "kind": KINDS.get(s.kind, str(s.kind)),
                                  "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(),
                                  "parent_id": s.parent_span_id.hex() or None,
                                  "attributes": {a.key: a.value.string_value for a in s.attributes}})
        with self._lock:
            self.spans.extend(spans)

    def in_trace(self, trace_id):
        with self._lock:
            return [s for s in self.spans if s["trace_id"] == trace_id]


def sdk_span(span):
    """An SDK ReadableSpan (the in-memory exporter's) as the receiver's dict."""
    return {"service": span.resource.attributes["service.name"], "name": span.name, "kind": span.kind.name,
            "trace_id": f"{span.context.trace_id:032x}", "span_id": f"{span.context.span_id:016x}",
            "parent_id": f"{span.parent.span_id:016x}" if span.parent else None, "attributes": dict(span.attributes)}


@pytest.fixture(scope="module")
def receiver():
    rx = Receiver()
    yield rx
    rx.server.shutdown()


def traced_worker(pool, receiver, smtp_sink, tmp_path):
    """A real worker exporting spans by OTLP/HTTP, configured by env only. Not the session's
    `worker`: tests without that fixture run before any test that starts it, so this one is
    the only consumer of the queues meanwhile."""
    multiproc_dir = tmp_path / "prometheus"
    multiproc_dir.mkdir()
    worker = realworker.Worker(tmp_path / "worker.log", {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms: spans reach the receiver promptly
        "EMAIL_URL": smtp_sink.url,
        # Inherited by mistake: a Celery process must not write gunicorn's metric files (harbor/__init__.py).
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc_dir),
    }, name="traced")
    worker.args += ["--pool", pool]
    worker.multiproc_dir = multiproc_dir
    return worker


@pytest.fixture
def shop(pool, request, receiver, smtp_sink, transactional_db, tmp_path):
    """A traced worker with the pool the test names (parametrized `pool`), and a product committed so the
    worker sees it; afterwards the worker is idle again and stopped."""
    ProductFactory(sku="MUG-001", unit_price=1800, stock__available=50)
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(*realworker.QUEUES)  # nothing left by earlier tests
    worker = traced_worker(pool, receiver, smtp_sink, tmp_path).start()
    yield worker
    idle = realworker.wait_until_idle()
    worker.stop()
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:
        print("--- worker log ---\n" + worker.tail())
    assert idle, "worker still busy after the test:\n" + worker.tail()


def worker_spans_of(receiver, trace_id):
    """The trace's spans from the worker, once fulfill_order's fan-out has finished in it."""
    def complete():
        spans = receiver.in_trace(trace_id)
        names = {s["name"] for s in spans if s["service"] == "harbor-worker"}
        if {f"run/{task}" for task in FAN_OUT} <= names:
            return spans
        return None

    return eventually(complete, timeout=30) or receiver.in_trace(trace_id)


def assert_one_trace_from_checkout_to_fan_out(spans, web_service):
    """One trace: POST /api/orders/ → publish fulfill_order → run it → publish and run
    create_label and the receipt's e-mail (notifications' on_event), each span the child of the
    one before it."""
    by_id = {s["span_id"]: s for s in spans}
    assert len({s["trace_id"] for s in spans}) == 1

    def chain(span):
        names = []
        while span is not None:
            names.append((span["service"], span["kind"], span["name"]))
            span = by_id.get(span["parent_id"])
        return names[::-1]

    def one(service, kind, name):
        found = [s for s in spans if (s["service"], s["kind"], s["name"]) == (service, kind, name)]
        assert found, f"no {kind} span {name} from {service} in:\n" + "\n".join(map(str, map(chain, spans)))
        return found[0]

    request = one(web_service, SERVER, "POST api/orders/")
    assert request["parent_id"] is None
    assert request["attributes"].get("http.route") == "api/orders/"
    checkout = [(web_service, SERVER, "POST api/orders/"),
                (web_service, PRODUCER, "apply_async/orders.tasks.fulfill_order"),
                ("harbor-worker", CONSUMER, "run/orders.tasks.fulfill_order")]
    for task in FAN_OUT:
        run = one("harbor-worker", CONSUMER, f"run/{task}")
        assert chain(run) == [*checkout, ("harbor-worker", PRODUCER, f"apply_async/{task}"),
                              ("harbor-worker", CONSUMER, f"run/{task}")]
    # The worker's database and Redis work is in the trace too (psycopg and redis instrumented).
    fulfill = one("harbor-worker", CONSUMER, "run/orders.tasks.fulfill_order")
    below_fulfill = [s for s in spans if (fulfill["service"], fulfill["kind"], fulfill["name"]) in chain(s)[:-1]]
    assert any(s["attributes"].get("db.system") == "postgresql" for s in below_fulfill)
    assert any(s["attributes"].get("db.system") == "redis" for s in below_fulfill)


@pytest.mark.parametrize("pool", ["prefork"])  # the Procfile's worker line: each child starts it (worker_process_init)
def test_a_checkout_request_and_its_fulfillment_are_one_trace(shop, receiver):
    from opentelemetry import trace

    provider = TracerProvider(resource=Resource.create({"service.name": "harbor-web"}))
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.instrument(tracer_provider=provider)  # before the client builds its middleware chain
    try:
        response = APIClient().post("/api/orders/", BODY, format="json")
    finally:
        telemetry.uninstrument()
        provider.shutdown()

    assert response.status_code == 202, response.content
    assert wait_for_status(response.json()["id"], ["fulfilled"]).status == "fulfilled"
    web = [sdk_span(s) for s in exporter.get_finished_spans()]
    trace_id = next(s["trace_id"] for s in web if s["kind"] == SERVER)
    assert_one_trace_from_checkout_to_fan_out(web + worker_spans_of(receiver, trace_id), "harbor-web")
    # Nothing global was set: the API's provider is still the no-op proxy, Django's middleware as it was.
    assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"
    from django.conf import settings
    assert not any("opentelemetry" in m for m in settings.MIDDLEWARE)
    assert list(shop.multiproc_dir.iterdir()) == []  # the worker wrote no metric files


@pytest.mark.parametrize("pool", ["threads"])  # the Procfile's payments line: no child processes (worker_init)
def test_gunicorn_traces_the_checkout_into_the_worker(shop, receiver, tmp_path):
    """The Procfile's gunicorn, tracing on by env: post_fork starts it in each worker process."""
    port = free_port()
    argv = [sys.executable, "-m", *shlex.split(procfile()["web"].replace("${PORT}", str(port)))]
    env = {**os.environ, "DATABASE_URL": realworker.test_database_url(), "CHECKOUT_RATE_LIMIT": "",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
           "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    web = realworker.Process(argv, env, tmp_path / "web.log", "Tracing on in worker").start()
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.post(url + "/api/orders/", json=BODY, timeout=10)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 202, response.text
        assert wait_for_status(response.json()["id"], ["fulfilled"]).status == "fulfilled"
        request = eventually(lambda: [s for s in receiver.spans if s["service"] == "harbor-web" and s["kind"] == SERVER
                                      and s["attributes"].get("http.route") == "api/orders/"], timeout=10)
        assert len(request) == 1, web.tail()
        assert_one_trace_from_checkout_to_fan_out(worker_spans_of(receiver, request[0]["trace_id"]), "harbor-web")
    finally:
        web.stop()


def test_tracing_is_off_without_the_environment_and_then_costs_nothing():
    """(redis-py imports the OpenTelemetry API for its own optional metrics; Harbor starts nothing.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    code = ("import sys, threading; import harbor.wsgi; from django.conf import settings; "
            "from harbor import telemetry; from opentelemetry import trace; "
            "print(telemetry.enabled(), telemetry.setup('x'), type(trace.get_tracer_provider()).__name__, "
            "[m for m in sys.modules if m.startswith(('opentelemetry.instrumentation', 'opentelemetry.sdk.trace'))], "
            "[m for m in settings.MIDDLEWARE if 'opentelemetry' in m], threading.active_count())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)

    assert out.returncode == 0, out.stderr
    # Off: no provider, no instrumentation loaded, no middleware, no exporter thread.
    assert out.stdout.strip() == "False False ProxyTracerProvider [] [] 1"


@pytest.mark.parametrize("env, on", [({}, False), ({"OTEL_TRACES_EXPORTER": "none"}, False),
                                     ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
                                     ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
                                     ({"OTEL_TRACES_EXPORTER": "console"}, True)])
def test_what_turns_tracing_on(env, on, monkeypatch):
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    assert telemetry.enabled() is on
