"""Refunds end to end: a real worker, localstripe counting refunds, the SMTP sink."""

from django.core.management import call_command

from catalog.models import Stock
from orders.models import Order, OrderEvent
from payments import gateway
from payments.models import Payment
from payments.tasks import refund_order
from tests.conftest import eventually, wait_for_status

FINAL = ("fulfilled", "payment_failed", "needs_review")


def fulfilled_order(api, checkout_body, email):
    response = api.post("/api/orders/", checkout_body(email=email), format="json")
    order = wait_for_status(response.json()["id"], FINAL)
    assert order.status == "fulfilled"
    return order


def test_refund_sent_6_times_refunds_once_restocks_and_emails_once(worker, api, product, checkout_body, smtp_sink):
    order = fulfilled_order(api, checkout_body, "refund-dup@example.com")
    intent = Payment.objects.get(order=order).payment_intent_id
    assert Stock.objects.get(product=product).available == 48

    results = [refund_order.delay(str(order.id), actor="ops-alice") for _ in range(6)]

    assert sorted(r.get(timeout=30) for r in results) == ["already refunded"] * 5 + ["refunded"]
    order.refresh_from_db()
    assert order.status == "refunded"
    assert len(gateway.refunds_for_intent(intent)) == 1  # counted at the Stripe server
    payment = Payment.objects.get(order=order)
    assert payment.status == "refunded" and payment.refund_id.startswith("re_")
    assert Stock.objects.get(product=product).available == 50
    event = OrderEvent.objects.get(order=order, to_status="refunded")
    assert event.from_status == "fulfilled" and event.actor == "ops-alice"
    assert len(eventually(lambda: smtp_sink.to("refund-dup@example.com", "refunded"))) == 1


def test_a_refund_made_before_a_crash_is_found_at_stripe_not_repeated(worker, api, product, checkout_body):
    order = fulfilled_order(api, checkout_body, "refund-crash@example.com")
    intent = Payment.objects.get(order=order).payment_intent_id
    gateway.create_refund(order.id, intent)  # Stripe refunded; our commit never happened

    call_command("refund_order", str(order.id), "--now")

    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert len(gateway.refunds_for_intent(intent)) == 1


def test_a_pending_order_is_not_refunded(worker, api, product, checkout_body):
    order = Order.objects.create(email="x@example.com", shipping_address={}, payment_method="pm_card_visa",
                                 total=100, currency="usd")

    assert refund_order.delay(str(order.id)).get(timeout=30).startswith("not refundable")
    assert Order.objects.get(pk=order.pk).status == "pending"
