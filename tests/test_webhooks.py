"""POST /payments/webhooks/stripe/: signed Stripe events move orders through the same
conditional transitions as the fulfillment task, once per event id, never backwards."""

import hashlib
import hmac
import json
import time
import uuid

import pytest
import requests
from django.conf import settings
from django.test import Client

from inventory.models import Stock
from orders.models import Order, OrderEvent, Shipment
from orders.state import transition
from payments.audit import succeeded_charges_by_order
from payments.models import Payment, WebhookEvent
from tests.concurrency import run_concurrently
from tests.conftest import eventually, queued_events, queued_tasks, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)  # on-commit effects reach the real broker

URL = "/payments/webhooks/stripe/"


def sign(body, secret=None, timestamp=None):
    """The Stripe-Signature header Stripe would send: HMAC-SHA256 of "<t>.<body>"."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new((secret or settings.STRIPE_WEBHOOK_SECRET).encode(), f"{timestamp}.{body}".encode(),
                   hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def deliver(event, *, body=None, signature=None, **sign_args):
    body = json.dumps(event) if body is None else body
    signature = sign(body, **sign_args) if signature is None else signature
    return Client().post(URL, body, content_type="application/json", headers={"Stripe-Signature": signature})


def event(type, obj, event_id=None):
    return {"id": event_id or f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "type": type,
            "created": int(time.time()), "livemode": False, "data": {"object": obj}}


def intent_event(type, order, intent_id=None, **fields):
    intent = {"id": intent_id or order.payment.payment_intent_id, "object": "payment_intent", "amount": order.total,
              "currency": order.currency, "metadata": {"order_id": str(order.id)},
              "status": "succeeded" if type.endswith("succeeded") else "requires_payment_method", **fields}
    return event(type, intent)


def refund_event(order, refunded=True):
    """charge.refunded after a refund made in Stripe's dashboard: all of it, or 100 (a part)."""
    amount = order.total if refunded else 100
    charge = {"id": f"ch_{uuid.uuid4().hex[:24]}", "object": "charge", "amount": order.total,
              "amount_refunded": amount, "refunded": refunded, "payment_intent": order.payment.payment_intent_id,
              "refunds": {"object": "list", "data": [{"id": "re_dashboard1", "object": "refund",
                                                      "status": "succeeded", "amount": amount}]}}
    return event("charge.refunded", charge)


def history(order):
    return list(OrderEvent.objects.filter(order=order).values_list("from_status", "to_status", "actor"))


def available(product):
    return Stock.objects.get(product=product).available


@pytest.fixture
def order(api, product, checkout_body, broker):
    """A pending order (2 of the 50 mugs reserved) whose charge is under way: its Payment
    holds the PaymentIntent id that the events below talk about."""
    response = api.post("/api/orders/", checkout_body(), format="json")
    order = Order.objects.get(pk=response.json()["id"])
    Payment.objects.create(order=order, amount=order.total, currency=order.currency, customer_id="cus_test",
                           payment_method_id="pm_test", payment_intent_id=f"pi_{uuid.uuid4().hex[:24]}")
    broker.delete("payments")  # checkout's fulfill_order: no worker runs in these tests
    return Order.objects.select_related("payment").get(pk=order.pk)


def test_payment_intent_succeeded_moves_the_order_to_paid_and_fans_out(order, broker):
    sent = intent_event("payment_intent.succeeded", order)

    response = deliver(sent)

    assert response.status_code == 200
    assert response.json() == {"id": sent["id"], "outcome": "order pending → paid"}
    order.refresh_from_db()
    assert order.status == "paid"
    assert history(order)[-1] == ("pending", "paid", f"stripe webhook {sent['id']}")
    assert Payment.objects.get(order=order).status == "succeeded"
    shipment = Shipment.objects.get(order=order)  # tracking number before label and receipt race
    assert queued_tasks(broker, "fulfillment") == [("orders.tasks.create_label", [str(order.id), shipment.pk])]
    assert queued_events(broker, "notifications") == [("notifications.tasks.on_event", "order.paid", str(order.id))]
    stored = WebhookEvent.objects.get()
    assert (stored.stripe_id, stored.type, stored.outcome) == (sent["id"], sent["type"], "order pending → paid")
    assert stored.payload == sent and stored.processed_at


def test_payment_intent_payment_failed_fails_the_order_restocks_and_tells_the_shopper(order, product, broker):
    sent = intent_event("payment_intent.payment_failed", order,
                        last_payment_error={"message": "Your card was declined.", "code": "card_declined"})

    response = deliver(sent)

    assert response.status_code == 200 and response.json()["outcome"] == "order pending → payment_failed"
    assert Order.objects.get(pk=order.pk).status == "payment_failed"
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.last_error) == ("failed", "Your card was declined.")
    assert available(product) == 50
    assert queued_events(broker, "notifications") == [
        ("notifications.tasks.on_event", "order.payment_failed", str(order.id))]


def _tampered(sent):
    body = json.dumps(sent)
    return {"body": body.replace('"amount": 3600', '"amount": 1'), "signature": sign(body)}


@pytest.mark.parametrize("case", ["wrong secret", "no signature", "garbled header", "body changed", "not json"])
def test_a_bad_signature_or_payload_is_400_and_changes_nothing(case, order, product, broker):
    sent = intent_event("payment_intent.succeeded", order)
    attempt = {
        "wrong secret": lambda: {"secret": "whsec_someone_else"},
        "no signature": lambda: {"signature": ""},
        "garbled header": lambda: {"signature": "v1=abc,t=notanumber"},
        "body changed": lambda: _tampered(sent),
        "not json": lambda: {"body": "{not json"},
    }[case]()

    response = deliver(sent, **attempt)

    assert response.status_code == 400
    assert response.json()["error"] == ("unparseable payload" if case == "not json" else "invalid signature")
    assert not WebhookEvent.objects.exists()
    assert Order.objects.get(pk=order.pk).status == "pending"
    assert Payment.objects.get(order=order).status == "pending"
    assert available(product) == 48
    assert not queued_tasks(broker, "fulfillment") and not queued_tasks(broker, "notifications")


def test_a_stale_timestamp_is_400_and_the_same_event_signed_now_is_accepted(order):
    sent = intent_event("payment_intent.succeeded", order)
    stale = int(time.time()) - settings.STRIPE_WEBHOOK_TOLERANCE - 5

    assert deliver(sent, timestamp=stale).status_code == 400
    assert not WebhookEvent.objects.exists() and Order.objects.get(pk=order.pk).status == "pending"

    assert deliver(sent, timestamp=int(time.time()) - settings.STRIPE_WEBHOOK_TOLERANCE + 30).status_code == 200
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_a_duplicate_delivery_is_200_and_a_no_op(order, broker):
    sent = intent_event("payment_intent.succeeded", order)

    first, second = deliver(sent), deliver(sent)

    assert first.status_code == second.status_code == 200
    assert second.json() == {"id": sent["id"], "duplicate": True}
    assert WebhookEvent.objects.count() == 1
    assert [h[:2] for h in history(order)] == [("", "pending"), ("pending", "paid")]
    assert len(queued_tasks(broker, "fulfillment")) == 1


def test_the_same_event_delivered_6_times_at_once_is_applied_once(order, broker):
    sent = intent_event("payment_intent.succeeded", order)

    responses = run_concurrently(lambda i: deliver(sent), 6)

    assert [r.status_code for r in responses] == [200] * 6
    assert sorted("duplicate" in r.json() for r in responses) == [False] + [True] * 5
    assert WebhookEvent.objects.count() == 1
    assert [h[:2] for h in history(order)] == [("", "pending"), ("pending", "paid")]
    assert len(queued_tasks(broker, "fulfillment")) == 1


def test_a_late_failure_never_moves_a_paid_order_backwards(order, product, broker):
    first, late, status = "payment_intent.succeeded", "payment_intent.payment_failed", "paid"
    assert deliver(intent_event(first, order)).status_code == 200
    before = (history(order), available(product), Payment.objects.get(order=order).status)
    broker.delete("fulfillment", "notifications")

    response = deliver(intent_event(late, order))

    assert response.status_code == 200 and response.json()["outcome"] == f"ignored: order is {status}"
    assert Order.objects.get(pk=order.pk).status == status
    assert (history(order), available(product), Payment.objects.get(order=order).status) == before
    assert not queued_tasks(broker, "fulfillment") and not queued_tasks(broker, "notifications")
    assert WebhookEvent.objects.get(type=late).outcome == f"ignored: order is {status}"


def test_a_success_after_the_order_failed_is_never_ignored_it_is_refunded_in_full(order, product, broker):
    """The intent was confirmed again after the decline (its client secret is in the browser):
    Stripe has the money for an order that ships nothing. Never ignored: a full refund is
    asked for at once, the order does not move backwards, and nothing ships."""
    assert deliver(intent_event("payment_intent.payment_failed", order)).status_code == 200
    stock = available(product)
    broker.delete("fulfillment", "notifications", "payments")

    response = deliver(intent_event("payment_intent.succeeded", order))

    assert "full refund requested" in response.json()["outcome"]
    assert Order.objects.get(pk=order.pk).status == "payment_failed"  # until the refund is back: then refunded
    payment = Payment.objects.get(order=order)
    assert payment.status == "succeeded"  # what Stripe says, however late
    assert [(r.amount, r.status) for r in payment.refunds.all()] == [(None, "requested")]  # all of it
    assert [task for task, _ in queued_tasks(broker, "payments")] == ["orders.tasks.refund_order"]
    assert not queued_tasks(broker, "fulfillment") and available(product) == stock  # nothing ships
    assert "Refunding it in full automatically" in OrderEvent.objects.filter(order=order).last().message

    deliver(intent_event("payment_intent.succeeded", order))  # told twice (another event id): asked once
    assert payment.refunds.count() == 1


def test_a_late_failure_after_the_order_is_fulfilled_is_ignored(order):
    deliver(intent_event("payment_intent.succeeded", order))
    assert transition(order.id, "paid", "fulfilled", message="Label created and receipt sent.")

    response = deliver(intent_event("payment_intent.payment_failed", order))

    assert response.json()["outcome"] == "ignored: order is fulfilled"
    assert Order.objects.get(pk=order.pk).status == "fulfilled"


@pytest.mark.parametrize("case", ["unknown order", "no metadata", "not an order id", "spare intent"])
def test_an_event_for_an_unknown_order_or_another_intent_is_stored_as_ignored(case, order, broker):
    sent = intent_event("payment_intent.succeeded", order)
    intent = sent["data"]["object"]
    if case == "unknown order":
        intent["metadata"]["order_id"] = str(uuid.uuid4())
    elif case == "no metadata":
        del intent["metadata"]
    elif case == "not an order id":
        intent["metadata"]["order_id"] = "42; DROP TABLE"
    else:  # an intent Harbor created but did not save (canceled as a spare)
        intent["id"] = "pi_spare"

    response = deliver(sent)

    expected = "ignored: pi_spare is not the order's payment intent" if case == "spare intent" \
        else "ignored: unknown order"
    assert response.status_code == 200 and response.json()["outcome"] == expected
    stored = WebhookEvent.objects.get()
    assert stored.stripe_id == sent["id"] and stored.outcome == expected and stored.processed_at
    assert Order.objects.get(pk=order.pk).status == "pending"
    assert Payment.objects.get(order=order).status == "pending"
    assert not queued_tasks(broker, "fulfillment")


def test_an_unhandled_event_type_is_200_and_stored(order):
    sent = event("customer.created", {"id": "cus_1", "object": "customer"})

    response = deliver(sent)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == "ignored: unhandled event type customer.created"
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_charge_refunded_at_stripe_refunds_the_order_restocks_and_emails_once(order, product, broker):
    deliver(intent_event("payment_intent.succeeded", order))
    broker.delete("fulfillment", "notifications")
    assert available(product) == 48
    sent = refund_event(order)

    response = deliver(sent)

    assert response.status_code == 200 and response.json()["outcome"] == "order paid → refunded"
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert history(order)[-1] == ("paid", "refunded", f"stripe webhook {sent['id']}")
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount_refunded) == ("refunded", 3600) and payment.refunded_at
    assert list(payment.refunds.values_list("stripe_id", "amount", "requested_by")) == [
        ("re_dashboard1", 3600, "stripe")]
    assert available(product) == 50  # it had not shipped: the goods are still here
    assert queued_events(broker, "notifications") == [("notifications.tasks.on_event", "order.refunded", str(order.id))]

    # Another charge.refunded for the same refund (a new event id): recorded once, nothing repeats.
    again = deliver(refund_event(order))
    assert again.json()["outcome"] == "refunds recorded; order refunded"
    assert available(product) == 50 and len(queued_tasks(broker, "notifications")) == 1
    assert payment.refunds.count() == 1


def test_a_partial_refund_at_stripe_is_recorded_and_the_order_stays_paid(order, product):
    unknown = refund_event(order)
    unknown["data"]["object"]["payment_intent"] = "pi_not_ours"
    assert deliver(unknown).json()["outcome"] == "ignored: unknown order"
    assert deliver(refund_event(order)).json()["outcome"] == "ignored: order is pending"
    deliver(intent_event("payment_intent.succeeded", order))

    response = deliver(refund_event(order, refunded=False))

    assert response.json()["outcome"] == "refunds recorded; order paid"
    assert Order.objects.get(pk=order.pk).status == "paid" and available(product) == 48
    assert Payment.objects.get(order=order).amount_refunded == 100
    assert OrderEvent.objects.filter(order=order, message__startswith="Refunded $1.00 (re_dashboard1)").exists()


def test_a_refund_that_fails_later_at_stripe_sends_the_refunded_order_to_review(order, product):
    deliver(intent_event("payment_intent.succeeded", order))
    deliver(refund_event(order))
    assert Order.objects.get(pk=order.pk).status == "refunded"

    failed = {"id": "re_dashboard1", "object": "refund", "status": "failed", "amount": order.total,
              "failure_reason": "expired_or_canceled_card", "payment_intent": order.payment.payment_intent_id}
    response = deliver(event("refund.failed", failed))

    assert response.json()["outcome"] == "order refunded → needs_review"
    review = OrderEvent.objects.get(order=order, to_status="needs_review")
    assert "failed: expired_or_canceled_card" in review.message
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount_refunded) == ("succeeded", 0)


def refund_object(order, status, refund_id="re_late1"):
    return {"id": refund_id, "object": "refund", "status": status, "amount": order.total,
            "payment_intent": order.payment.payment_intent_id,
            "failure_reason": "expired_or_canceled_card" if status == "failed" else None}


def test_a_refund_is_refunded_only_once_stripe_says_it_succeeded(order, product, broker):
    deliver(intent_event("payment_intent.succeeded", order))
    broker.delete("fulfillment", "notifications")

    pending = deliver(event("refund.updated", refund_object(order, "pending")))

    assert pending.json()["outcome"] == "refunds recorded; order paid"  # on its way, not back yet
    assert available(product) == 48 and not queued_tasks(broker, "notifications")
    assert OrderEvent.objects.filter(order=order, message__contains="made at Stripe, pending").exists()

    succeeded = deliver(event("refund.updated", refund_object(order, "succeeded")))

    assert succeeded.json()["outcome"] == "order paid → refunded"
    assert available(product) == 50
    assert queued_events(broker, "notifications") == [("notifications.tasks.on_event", "order.refunded", str(order.id))]


def test_a_refund_event_older_than_what_harbor_knows_changes_nothing(order, product, broker):
    """Stripe does not order its events and retries them for days: a refund.updated (pending)
    that arrives after refund.failed is history, not news."""
    deliver(intent_event("payment_intent.succeeded", order))
    broker.delete("fulfillment", "notifications")
    deliver(event("refund.failed", refund_object(order, "failed")))
    assert Order.objects.get(pk=order.pk).status == "needs_review"  # the money did not go back
    before = (history(order), available(product), Payment.objects.get(order=order).amount_refunded)

    late = deliver(event("refund.updated", refund_object(order, "pending")))

    assert late.status_code == 200
    refund = Payment.objects.get(order=order).refunds.get()
    assert refund.status == "failed"
    assert Order.objects.get(pk=order.pk).status == "needs_review"
    assert (history(order), available(product), Payment.objects.get(order=order).amount_refunded) == before
    assert not queued_tasks(broker, "notifications")  # no "refunded" e-mail for a refund that failed


def test_only_post_is_allowed():
    assert Client().get(URL).status_code == 405


# --- End to end: localstripe delivers its own webhooks while a real worker fulfills ------------

def configure_localstripe_webhook(hook_id, url, events):
    response = requests.post(f"{settings.STRIPE_API_BASE}/_config/webhooks/{hook_id}", timeout=5, data={
        "url": url, "secret": settings.STRIPE_WEBHOOK_SECRET, "events[]": events})
    response.raise_for_status()


@pytest.fixture
def localstripe_webhook(live_server):
    """localstripe posts payment_intent events to our live server for this test; afterwards
    the registration (kept by localstripe for the session) points nowhere and filters all out."""
    hook_id = f"harbor-test-{uuid.uuid4().hex[:8]}"
    url = live_server.url.replace("localhost", "127.0.0.1") + URL
    configure_localstripe_webhook(hook_id, url, ["payment_intent.succeeded", "payment_intent.payment_failed"])
    yield
    configure_localstripe_webhook(hook_id, "http://127.0.0.1:9/", ["harbor.test.nothing"])


def test_localstripe_webhook_and_the_task_race_and_charge_fulfill_once(worker, localstripe_webhook, api, product,
                                                                       checkout_body, stripe_proxy):
    # Hold the worker's confirm answer for 2 s: localstripe sends its webhook 1 s after it
    # confirmed, so the webhook usually moves the order first and the task then finds it paid.
    stripe_proxy.inject("POST", r"/v1/payment_intents/[^/]+/confirm$", "delay")
    response = api.post("/api/orders/", checkout_body(email="webhook-race@example.com"), format="json")
    order_id = response.json()["id"]

    order = wait_for_status(order_id, ("fulfilled", "payment_failed", "needs_review"))
    intent_id = Payment.objects.get(order_id=order_id).payment_intent_id
    received = eventually(lambda: WebhookEvent.objects.filter(
        type="payment_intent.succeeded", payload__data__object__id=intent_id, processed_at__isnull=False).first())

    assert order.status == "fulfilled"
    assert received, "localstripe's payment_intent.succeeded was not received"
    assert received.outcome in ("order pending → paid", "ignored: order is paid", "ignored: order is fulfilled")
    assert succeeded_charges_by_order()[order_id] == 1
    [paid] = OrderEvent.objects.filter(order_id=order_id, from_status="pending", to_status="paid")
    webhook_won = received.outcome == "order pending → paid"
    assert paid.actor == (f"stripe webhook {received.stripe_id}" if webhook_won else "fulfill_order")
    assert [h[:2] for h in history(order)] == [("", "pending"), ("pending", "paid"), ("paid", "fulfilled")]
    assert Shipment.objects.filter(order_id=order_id).count() == 1
    assert Payment.objects.get(order_id=order_id).status == "succeeded"
