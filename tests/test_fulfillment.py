"""fulfill_order end to end: a real worker, PostgreSQL, Redis, SMTP and localstripe."""

import pytest

from inventory.models import Stock
from notifications.models import Notification
from orders.models import Order, OrderEvent, OutboxEvent, Shipment
from orders.tasks import fulfill_order
from payments.audit import succeeded_charges_by_order
from payments.models import Payment
from tests.conftest import label_files, receipt_emails, wait_for_status

FINAL = ("fulfilled", "payment_failed", "needs_review")
CONFIRM = r"/v1/payment_intents/[^/]+/confirm$"

# Counts of effects (e-mails at the SMTP sink, label files, charges at Stripe) are taken after
# worker.settle(): once no message is queued, held, or waiting out a retry, nothing more can
# arrive, so a late duplicate (a lock retry, a redelivery) would be counted too.

# Each test on both brokers: the session's worker on Redis, or on the RabbitMQ test vhost
# (this process's publishes go there too meanwhile: the `worker` fixture in tests/conftest.py).
pytestmark = pytest.mark.brokers("redis", "rabbitmq")


def place(api, checkout_body, **overrides):
    response = api.post("/api/orders/", checkout_body(**overrides), format="json")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def history(order_id):
    return list(OrderEvent.objects.filter(order_id=order_id).values_list("from_status", "to_status"))


def test_an_order_is_charged_labelled_receipted_and_fulfilled(broker_kind, worker, api, product, checkout_body,
                                                              smtp_sink):
    email = f"happy-{broker_kind}@example.com"  # one sink for the session: an address per broker
    order_id = place(api, checkout_body, email=email)

    order = wait_for_status(order_id, FINAL)
    assert worker.settle()

    assert order.status == "fulfilled"
    assert history(order_id) == [("", "pending"), ("pending", "paid"), ("paid", "fulfilled")]
    payment = Payment.objects.get(order=order)
    assert payment.status == "succeeded" and payment.amount == 3600 and payment.payment_intent_id.startswith("pi_")
    assert succeeded_charges_by_order()[order_id] == 1
    shipment = Shipment.objects.get(order=order)
    assert [path.read_bytes()[:4] for path in label_files(order_id)] == [b"%PDF"]
    assert shipment.label.name == label_files(order_id)[0].name
    [receipt] = receipt_emails(smtp_sink, order)
    assert shipment.tracking_number in receipt.get_body(("plain",)).get_content()
    assert "$36.00" in receipt.get_body(("html",)).get_content()
    # What the shopper sees through the API.
    data = api.get(f"/api/orders/{order_id}/").json()
    assert data["status"] == "fulfilled" and data["receipt_sent_at"]
    assert data["payment"] == {"status": "succeeded", "payment_intent": payment.payment_intent_id}
    assert data["shipment"]["tracking_number"] == shipment.tracking_number
    label = api.get(data["shipment"]["label_url"])
    assert label.status_code == 200 and label["Content-Type"] == "application/pdf"
    assert b"".join(label.streaming_content).startswith(b"%PDF")


@pytest.mark.parametrize("card", ["pm_card_chargeCustomerFail", "pm_card_visa_chargeDeclined"])
def test_a_declined_card_fails_the_order_restocks_and_tells_the_shopper(card, broker_kind, worker, api, product,
                                                                      checkout_body, smtp_sink):
    email = f"declined-{card}-{broker_kind}@example.com"
    order_id = place(api, checkout_body, email=email, payment_method=card)

    order = wait_for_status(order_id, FINAL)
    assert worker.settle()

    assert order.status == "payment_failed"
    assert "declined" in OrderEvent.objects.get(order=order, to_status="payment_failed").message
    assert Stock.objects.get(product=product).available == 50  # the 2 reserved units are back
    assert not Shipment.objects.filter(order=order).exists()
    assert succeeded_charges_by_order()[order_id] == 0
    assert Payment.objects.get(order=order).status == "failed"
    [failure] = smtp_sink.to(email, "Payment failed")
    assert "Nothing has been charged" in failure.get_body(("plain",)).get_content()
    assert not smtp_sink.to(email, "on its way") and label_files(order_id) == []


def test_fulfill_order_sent_10_times_at_once_charges_ships_and_receipts_once(broker_kind, worker, api, product,
                                                                            checkout_body, smtp_sink, stripe_proxy):
    email = f"dup-{broker_kind}@example.com"
    order_id = place(api, checkout_body, email=email)
    for _ in range(10):
        fulfill_order.delay(order_id)

    order = wait_for_status(order_id, FINAL)
    assert worker.settle()  # every copy has run, retries included

    assert order.status == "fulfilled"
    assert succeeded_charges_by_order()[order_id] == 1
    assert len(label_files(order_id)) == 1
    assert len(receipt_emails(smtp_sink, order)) == 1
    assert history(order_id) == [("", "pending"), ("pending", "paid"), ("paid", "fulfilled")]
    # The order lock: while one run charged, the others did not call Stripe alongside it.
    for write in (r"/v1/customers$", r"/v1/payment_intents$", CONFIRM):
        assert len(stripe_proxy.calls("POST", write, order_id)) == 1, write


def test_running_fulfill_order_again_after_fulfilled_changes_nothing(broker_kind, worker, api, product, checkout_body,
                                                                     smtp_sink):
    email = f"again-{broker_kind}@example.com"
    order_id = place(api, checkout_body, email=email)
    wait_for_status(order_id, FINAL)
    assert worker.settle()
    before = (history(order_id), Payment.objects.get(order_id=order_id).payment_intent_id)

    assert fulfill_order.delay(order_id).get(timeout=30) == "fulfilled"

    assert worker.settle()
    assert (history(order_id), Payment.objects.get(order_id=order_id).payment_intent_id) == before
    assert succeeded_charges_by_order()[order_id] == 1
    assert len(receipt_emails(smtp_sink, Order.objects.get(pk=order_id))) == 1
    assert len(label_files(order_id)) == 1


@pytest.mark.parametrize("fault", ["500", "429"])
def test_transient_stripe_failures_are_retried_and_charge_once(fault, broker_kind, worker, api, product, checkout_body,
                                                               stripe_proxy):
    stripe_proxy.inject("POST", CONFIRM, fault, times=3)

    order_id = place(api, checkout_body, email=f"flaky-{fault}-{broker_kind}@example.com")
    order = wait_for_status(order_id, FINAL, timeout=60)

    assert order.status == "fulfilled"
    assert [(c.fault, c.forwarded) for c in stripe_proxy.faults_served()] == [(fault, False)] * 3
    assert len(stripe_proxy.reached_stripe("POST", CONFIRM, order_id)) == 1
    assert Payment.objects.get(order=order).attempts == 4
    assert succeeded_charges_by_order()[order_id] == 1


def test_duplicate_label_and_receipt_tasks_make_one_label_and_one_email(broker_kind, worker, api, product,
                                                                        checkout_body, smtp_sink):
    from celery import group, signature

    email = f"fanout-{broker_kind}@example.com"
    order_id = place(api, checkout_body, email=email)
    wait_for_status(order_id, FINAL)
    assert worker.settle()
    label_before = Shipment.objects.get(order_id=order_id).label.name

    paid = str(OutboxEvent.objects.get(order_id=order_id, type="order.paid").pk)  # the receipt's event
    group([signature("orders.tasks.create_label", args=[order_id]) for _ in range(4)]
          + [signature("notifications.tasks.on_event", args=[paid]) for _ in range(4)]).apply_async().get(30)

    assert worker.settle()
    assert Shipment.objects.get(order_id=order_id).label.name == label_before
    assert len(label_files(order_id)) == 1  # no second PDF rendered beside the first
    assert len(receipt_emails(smtp_sink, Order.objects.get(pk=order_id))) == 1
    assert history(order_id)[-1] == ("paid", "fulfilled")


def test_a_receipt_the_mail_server_refuses_for_good_is_not_sent_again_and_the_goods_still_ship(
        worker, api, product, checkout_body, smtp_sink, broker_kind):
    from notifications.tasks import on_event

    address = f"no-such-user-{broker_kind}@example.com"
    smtp_sink.refused[address] = "550 5.1.1 No such user here"
    try:
        response = api.post("/api/orders/", checkout_body(email=address), format="json")
        order = wait_for_status(response.json()["id"], FINAL)

        assert order.status == "fulfilled"  # the label went out; the receipt could not be delivered
        receipt = Notification.objects.get(order=order, kind="receipt")
        assert receipt.sent_at is None and receipt.failed_at is not None and "550" in receipt.error
        assert OrderEvent.objects.filter(order=order, message__contains="refused for good").exists()
        refused_once = [r for r in smtp_sink.refusals if r[0] == address]
        assert len(refused_once) == 1  # never retried by the task

        paid = OutboxEvent.objects.get(order=order, type="order.paid")
        on_event.delay(str(paid.pk)).get(timeout=30)  # a redelivery, or reconciliation, sending it again
        assert len([r for r in smtp_sink.refusals if r[0] == address]) == 1  # is refused by us, not the server
        assert smtp_sink.to(address) == []
    finally:
        smtp_sink.refused.pop(address, None)


def test_only_a_permanent_refusal_of_the_recipient_is_final():
    import smtplib

    from notifications.emails import permanent_refusal

    assert permanent_refusal(smtplib.SMTPRecipientsRefused({"a@x.example": (550, b"5.1.1 No such user")})) == (
        "550 5.1.1 No such user")
    assert permanent_refusal(smtplib.SMTPRecipientsRefused({"a@x.example": (450, b"4.2.0 Greylisted")})) is None
    assert permanent_refusal(smtplib.SMTPDataError(554, b"5.7.1 Rejected")) == "554 5.7.1 Rejected"
    assert permanent_refusal(smtplib.SMTPDataError(451, b"4.3.0 Try later")) is None
    assert permanent_refusal(smtplib.SMTPServerDisconnected("gone")) is None  # the server away: retried
