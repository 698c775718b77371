"""Outbound webhooks, piece by piece, against a real HTTP receiver on loopback: an order's change
and its event are written together or not at all (the transactional outbox); each subscriber's
deliveries are numbered in the order's history and sent in that order; each is a signed JSON
POST (the contract's headers and body); a failure is logged and tried again later, for a day;
a subscriber failing all day is disabled and shows in the metrics; in production no URL may
reach an internal address. The faults (a receiver failing, down, slow; a worker killed
mid-delivery) are in tests/faults/test_webhook_faults.py."""

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone

from orders import outbox
from orders.models import Order, OrderStatus, OutboxEvent
from orders.state import transition
from tests.conftest import queued_tasks
from webhooks import services, signing, ssrf
from webhooks.models import Attempt, Delivery, Subscriber

SECRET = "whsec_test_0123456789"


class Receiver:
    """A real HTTP server on loopback that records every POST and answers with `codes` in turn
    (then 200)."""

    def __init__(self):
        self.requests, self.codes = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.codes.pop(0) if receiver.codes else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"broken")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self):
        return [json.loads(body) for _, body in self.requests]


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.server.shutdown()


@pytest.fixture
def order(db, product):
    return Order.objects.create(email="erp@example.com", shipping_address={"country": "GB"},
                                payment_method="pm_card_visa", total=3600, currency="gbp")


def subscribe(url, events=("*",)):
    return Subscriber.objects.create(url=url, secret=SECRET, events=list(events))


def paid_then_fulfilled(order):
    assert transition(order.pk, OrderStatus.PENDING, OrderStatus.PAID)
    assert transition(order.pk, OrderStatus.PAID, OrderStatus.FULFILLED)
    return list(OutboxEvent.objects.filter(order=order).order_by("pk"))


# --- The outbox -------------------------------------------------------------------------------

def test_with_no_subscriber_the_webhooks_are_not_told(order):
    assert transition(order.pk, OrderStatus.PENDING, OrderStatus.PAID)
    assert transition(order.pk, OrderStatus.PAID, OrderStatus.FULFILLED)
    # order.paid is the receipt's e-mail (notifications/), order.fulfilled nobody's: no row.
    assert list(OutboxEvent.objects.values_list("type", "pending")) == [("order.paid", ["notifications.tasks.on_event"])]


def test_an_event_is_written_with_its_change_or_not_at_all(order, receiver):
    subscribe(receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert transition(order.pk, OrderStatus.PENDING, OrderStatus.PAID)
        raise RuntimeError("the rest of the change failed")
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING and not OutboxEvent.objects.exists()  # no phantom event

    assert transition(order.pk, OrderStatus.PENDING, OrderStatus.PAID)
    event = OutboxEvent.objects.get()
    assert (event.type, event.data["order_id"], sorted(event.pending)) == (
        "order.paid", str(order.pk), ["notifications.tasks.on_event", "webhooks.tasks.on_event"])


def test_checkout_writes_order_created_for_a_subscriber(api, checkout_body, product, receiver):
    subscribe(receiver.url, ["order.created"])
    response = api.post("/api/orders/", checkout_body(), format="json")
    assert response.status_code == 202
    event = OutboxEvent.objects.get()
    assert event.type == "order.created" and event.data["order_id"] == response.json()["id"]


@pytest.mark.django_db(transaction=True)
def test_an_event_is_published_after_commit_and_a_lost_publish_is_swept(order, receiver, broker, settings):
    subscribe(receiver.url)
    assert transition(order.pk, OrderStatus.PENDING, OrderStatus.PAID)
    event = OutboxEvent.objects.get()
    assert queued_tasks(broker, "webhooks") == [("webhooks.tasks.on_event", [str(event.pk)])]

    # The publish was lost (the broker lost the message): not handled, so the sweep sends it again.
    broker.delete("webhooks")
    assert outbox.sweep(timezone.now()) == {}  # not yet: it was written just now
    later = timezone.now() + timedelta(seconds=settings.RECONCILE_AFTER + 1)
    assert outbox.sweep(later) == {"outbox_events": 1}
    assert queued_tasks(broker, "webhooks") == [("webhooks.tasks.on_event", [str(event.pk)])]
    assert outbox.sweep(later) == {}  # stamped: the next sweep waits another RECONCILE_AFTER

    # Once handled (by both consumers: the receipt's e-mail too), never again.
    outbox.handled(event.pk, "webhooks.tasks.on_event")
    outbox.handled(event.pk, "notifications.tasks.on_event")
    assert outbox.sweep(timezone.now() + timedelta(days=1)) == {}


# --- Fan-out and order ------------------------------------------------------------------------

def test_each_subscriber_numbers_its_deliveries_in_the_orders_history(order, receiver):
    everything = subscribe(receiver.url)
    paid_only = subscribe(receiver.url + "/paid", ["order.paid"])
    created, paid, fulfilled = outbox.emit("order.created", order.pk), *paid_then_fulfilled(order)[1:]

    # The later event's fan-out runs first: the order's earlier events go before it.
    assert len(services.fan_out(paid.pk)) == 3
    assert services.fan_out(created.pk) == []  # done already: repeating it does nothing
    assert len(services.fan_out(fulfilled.pk)) == 1
    assert services.fan_out(fulfilled.pk) == []
    assert list(everything.deliveries.order_by("sequence").values_list("event__type", "sequence")) == [
        ("order.created", 1), ("order.paid", 2), ("order.fulfilled", 3)]
    assert list(paid_only.deliveries.values_list("event__type", "sequence")) == [("order.paid", 1)]


def test_a_subscriber_added_later_is_not_sent_what_happened_before_it(order, receiver):
    early = outbox.emit("order.created", order.pk)
    assert early is None  # nobody wanted it: not even written
    subscriber = subscribe(receiver.url)
    paid = paid_then_fulfilled(order)[0]
    services.fan_out(paid.pk)
    assert list(subscriber.deliveries.values_list("event__type", flat=True)) == ["order.paid"]


# --- One delivery -----------------------------------------------------------------------------

def test_a_delivery_is_a_signed_post_with_the_contracts_body(order, receiver):
    subscribe(receiver.url)
    event, fulfilled = paid_then_fulfilled(order)
    first, _ = services.fan_out(fulfilled.pk)
    assert services.deliver(first) == ("delivered", Delivery.objects.get(sequence=2).pk)  # then the next one

    [(headers, body)] = receiver.requests
    sent = json.loads(body)
    assert set(sent) == {"id", "type", "created", "sequence", "data"}
    assert (sent["id"], sent["type"], sent["sequence"], sent["data"]["order_id"]) == (
        str(event.event_id), "order.paid", 1, str(order.pk))
    assert headers["Harbor-Event-Id"] == str(event.event_id)
    assert signing.verify(SECRET, headers["Harbor-Signature"], body, now=time.time())
    assert not signing.verify("another secret", headers["Harbor-Signature"], body, now=time.time())
    assert not signing.verify(SECRET, headers["Harbor-Signature"], body + b" ", now=time.time())
    assert not signing.verify(SECRET, headers["Harbor-Signature"], body, now=time.time() + 3600)  # replayed late
    delivery = Delivery.objects.get(pk=first)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert list(Attempt.objects.values_list("number", "status_code", "error")) == [(1, 200, "")]


def test_a_failed_delivery_is_logged_and_tried_again_after_a_backoff(order, receiver, settings):
    settings.WEBHOOK_RETRY_BASE = 30
    subscribe(receiver.url)
    receiver.codes = [500, 503]
    first = services.fan_out(paid_then_fulfilled(order)[0].pk)[0]

    outcome, wait = services.deliver(first)
    assert outcome == "failed" and 24 <= wait <= 30
    assert services.deliver(first) == ("not due", None)  # not before its time
    Delivery.objects.filter(pk=first).update(next_attempt_at=timezone.now())
    outcome, wait = services.deliver(first)
    assert outcome == "failed" and 48 <= wait <= 60  # doubled
    Delivery.objects.filter(pk=first).update(next_attempt_at=timezone.now())
    assert services.deliver(first)[0] == "delivered"

    assert [code for code in Attempt.objects.values_list("status_code", flat=True)] == [500, 503, 200]
    assert Attempt.objects.first().error.startswith("HTTP 500")
    assert len(receiver.requests) == 3 and len({json.loads(b)["id"] for _, b in receiver.requests}) == 1
    assert Subscriber.objects.get().failing_since is None  # a success clears the failure clock


def test_an_unreachable_receiver_is_a_failure_like_any_other(order, receiver):
    subscribe("http://127.0.0.1:9/nobody-listens")
    first = services.fan_out(paid_then_fulfilled(order)[0].pk)[0]
    assert services.deliver(first)[0] == "failed"
    attempt = Attempt.objects.get()
    assert attempt.status_code is None and "ConnectionError" in attempt.error


def test_a_later_event_of_an_order_waits_for_the_earlier_one(order, receiver):
    subscribe(receiver.url)
    first, second = services.fan_out(paid_then_fulfilled(order)[1].pk)
    assert services.deliver(second) == ("held back", None)
    assert receiver.requests == []
    assert services.deliver(first) == ("delivered", second)
    assert services.deliver(second) == ("delivered", None)
    assert [body["sequence"] for body in receiver.bodies()] == [1, 2]
    assert services.due() == []


def test_a_delivery_someone_is_sending_is_not_sent_again(order, receiver):
    subscribe(receiver.url)
    first = services.fan_out(paid_then_fulfilled(order)[0].pk)[0]
    Delivery.objects.filter(pk=first).update(claimed_until=timezone.now() + timedelta(seconds=30))
    assert services.deliver(first) == ("not due", None)
    assert first not in services.due()
    Delivery.objects.filter(pk=first).update(claimed_until=timezone.now() - timedelta(seconds=1))  # its sender died
    assert first in services.due()
    assert services.deliver(first)[0] == "delivered"


def test_a_subscriber_failing_for_the_whole_window_is_disabled_and_alerted(order, receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER = 3600
    subscriber = subscribe(receiver.url)
    receiver.codes = [500] * 5
    first = services.fan_out(paid_then_fulfilled(order)[0].pk)[0]
    assert services.deliver(first)[0] == "failed"
    subscriber.refresh_from_db()
    assert subscriber.active and subscriber.failing_since is not None

    Subscriber.objects.filter(pk=subscriber.pk).update(failing_since=timezone.now() - timedelta(hours=2))
    Delivery.objects.filter(pk=first).update(next_attempt_at=timezone.now())
    assert services.deliver(first)[0] == "failed"
    subscriber.refresh_from_db()
    assert not subscriber.active and subscriber.disabled_at and "HTTP 500" in subscriber.disabled_reason
    Delivery.objects.filter(pk=first).update(next_attempt_at=timezone.now())
    assert services.deliver(first) == ("not due", None) and services.due() == []  # nothing sent while disabled
    metrics = Client(REMOTE_ADDR="127.0.0.1").get("/metrics").content.decode()
    assert 'harbor_webhook_subscribers{state="disabled"} 1.0' in metrics
    assert Delivery.objects.get(pk=first).status == "pending"  # kept: sent once the subscriber is enabled again


def test_a_delivery_failing_past_the_retry_window_is_given_up(order, receiver, settings):
    settings.WEBHOOK_RETRY_FOR = 60
    subscribe(receiver.url)
    receiver.codes = [500]
    first = services.fan_out(paid_then_fulfilled(order)[1].pk)[0]
    Delivery.objects.filter(pk=first).update(created_at=timezone.now() - timedelta(seconds=61))
    assert services.deliver(first) == ("failed", None)
    assert Delivery.objects.get(pk=first).status == "failed"
    assert services.due() == [Delivery.objects.get(sequence=2).pk]  # the order's next one is not held back by it


# --- Ops --------------------------------------------------------------------------------------

def test_add_webhook_subscriber_as_the_contract_says(db):
    call_command("add_webhook_subscriber", "https://erp.example.com/hooks", "--secret", "s3cret",
                 "--events", "order.paid,shipment.shipped")
    call_command("add_webhook_subscriber", "https://wms.example.com/hooks", secret="s3cret", events="all")
    assert list(Subscriber.objects.values_list("url", "events")) == [
        ("https://erp.example.com/hooks", ["order.paid", "shipment.shipped"]), ("https://wms.example.com/hooks", ["*"])]


@pytest.mark.parametrize("args, message", [
    (["--events", "order.exploded"], "unknown event type"),
    (["--events", ""], "unknown event type"),
    (["--events", "all", "--secret", " "], "--secret must not be empty"),
])
def test_add_webhook_subscriber_refuses_bad_input_and_writes_nothing(db, args, message):
    base = {"--secret": "s3cret", "--events": "all"}
    base.update(dict(zip(args[::2], args[1::2])))
    with pytest.raises(CommandError, match=message):
        call_command("add_webhook_subscriber", "https://erp.example.com/hooks", *sum(base.items(), ()))
    assert not Subscriber.objects.exists()


def test_redeliver_sends_a_delivered_event_again(order, receiver, ops_login, broker):
    subscribe(receiver.url)
    first = services.fan_out(paid_then_fulfilled(order)[0].pk)[0]
    assert services.deliver(first)[0] == "delivered"
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "x-not-a-secret-1"))
    response = admin.post("/admin/webhooks/delivery/", {"action": "redeliver", "_selected_action": [first]})
    assert response.status_code == 302
    assert Delivery.objects.get(pk=first).status == "pending"
    assert queued_tasks(broker, "webhooks") == [("webhooks.tasks.deliver", [first])]
    assert services.deliver(first)[0] == "delivered"
    assert [body["id"] for body in receiver.bodies()].count(str(OutboxEvent.objects.first().event_id)) == 2
    page = admin.get(f"/admin/webhooks/delivery/{first}/change/").content.decode()
    assert "attempts" in page and "200" in page


# --- No SSRF ----------------------------------------------------------------------------------

def resolver(*addresses):
    return lambda host, port, proto=0: [(2, 1, 6, "", (address, port)) for address in addresses]


@pytest.mark.parametrize("url, addresses, why", [
    ("http://erp.example.com/hooks", ["93.184.215.14"], "must use https"),
    ("https://localhost/hooks", ["127.0.0.1"], "non-public"),
    ("https://erp.internal/hooks", ["10.0.0.5"], "non-public"),
    ("https://erp.internal/hooks", ["192.168.1.20"], "non-public"),
    ("https://metadata.example/latest", ["169.254.169.254"], "non-public"),
    ("https://v6.example/hooks", ["::1"], "non-public"),
    ("https://v6.example/hooks", ["fd00:ec2::254"], "non-public"),
    ("https://mapped.example/hooks", ["::ffff:10.1.2.3"], "non-public"),
    ("https://half.example/hooks", ["93.184.215.14", "10.0.0.5"], "non-public"),  # one bad address is enough
    ("ftp://erp.example.com/hooks", [], "http"),
])
def test_in_production_a_webhook_url_must_be_https_and_public(url, addresses, why):
    with pytest.raises(ssrf.Refused, match=why):
        ssrf.check(url, prod=True, resolve=resolver(*addresses))


def test_in_production_a_public_https_url_is_accepted_and_development_allows_local_receivers():
    ssrf.check("https://erp.example.com/hooks", prod=True, resolve=resolver("93.184.215.14", "2606:2800:220:1::"))
    ssrf.check("http://127.0.0.1:8001/hooks", prod=False)


def test_production_refuses_a_private_url_when_saved_and_again_at_delivery(order, settings, monkeypatch):
    settings.IS_PROD = True
    with pytest.raises(CommandError, match="must use https"):
        call_command("add_webhook_subscriber", "http://10.0.0.5/hooks", secret="s", events="all")
    with pytest.raises(CommandError, match="non-public"):
        call_command("add_webhook_subscriber", "https://127.0.0.1/hooks", secret="s", events="all")
    assert not Subscriber.objects.exists()

    # Saved while it resolved to a public address; the name now points inside (DNS rebinding).
    subscribe("https://erp.example.com/hooks")
    first = services.fan_out(paid_then_fulfilled(order)[0].pk)[0]
    monkeypatch.setattr(ssrf.socket, "getaddrinfo", resolver("10.0.0.5"))
    assert services.deliver(first)[0] == "failed"
    assert "non-public address (10.0.0.5)" in Attempt.objects.get().error


def test_the_admin_refuses_a_private_url_in_production(db, settings, monkeypatch):
    settings.IS_PROD = True
    monkeypatch.setattr(ssrf.socket, "getaddrinfo", resolver("172.16.0.9"))
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "x-not-a-secret-1"))
    response = admin.post("/admin/webhooks/subscriber/add/", {
        "url": "https://erp.example.com/hooks", "secret": "s", "events": ["*"], "active": "on"})
    assert response.status_code == 200 and "non-public address" in response.content.decode()
    assert not Subscriber.objects.exists()
