"""Money that Harbor recorded as not taken is never taken for good (orders/voiding.py), on a
real worker and localstripe.

A PaymentIntent's client secret is in the shopper's browser from the moment 3-D Secure is
asked for, so whoever holds it can confirm the intent again with another card after Harbor
has given up on it. Harbor cancels the intent at Stripe before it records the order ended;
and if Stripe charges it anyway, the charge is refunded in full, automatically."""

import requests
from django.conf import settings
from django.core.management import call_command

from orders import authentication
from orders.models import Order, OrderEvent
from orders.operations import cancel
from payments.audit import succeeded_charges_by_order
from payments.models import Payment
from tests.conftest import eventually, queued_tasks, wait_for_status
from tests.test_authentication import card, place_3ds_order, shopper_authenticates
from tests.test_refunds import refunded_at_stripe
from tests.test_webhooks import deliver, intent_event

FINAL = ("fulfilled", "payment_failed", "canceled", "refunded", "needs_review")


def confirm_with_another_card(intent_id):
    """What someone holding the client secret can do to an intent that wants a payment method:
    give it a good card and confirm it (localstripe: set the method, then confirm). Returns
    localstripe's answer to the confirm."""
    base = f"{settings.STRIPE_API_BASE}/v1/payment_intents/{intent_id}"
    auth = (settings.STRIPE_SECRET_KEY, "")
    requests.post(base, data={"payment_method": card("4242424242424242")}, auth=auth, timeout=10)
    return requests.post(f"{base}/confirm", auth=auth, timeout=10)


def intent_status(intent_id):
    return requests.get(f"{settings.STRIPE_API_BASE}/v1/payment_intents/{intent_id}",
                        auth=(settings.STRIPE_SECRET_KEY, ""), timeout=10).json()["status"]


def test_after_a_failed_3d_secure_check_the_intent_cannot_be_confirmed_with_another_card(worker, api, product,
                                                                                         checkout_body):
    order = place_3ds_order(api, checkout_body, "3ds-then-good-card@example.com")
    intent_id = Payment.objects.get(order=order).payment_intent_id
    shopper_authenticates(order, success=False)
    assert authentication.shopper_returned(order.pk)
    assert wait_for_status(order.pk, FINAL).status == "payment_failed"

    attempt = confirm_with_another_card(intent_id)

    assert attempt.status_code == 400  # Stripe refuses: the intent was canceled first
    assert intent_status(intent_id) == "canceled"
    assert Payment.objects.get(order=order).intent_canceled_at is not None
    assert succeeded_charges_by_order()[str(order.pk)] == 0
    assert Order.objects.get(pk=order.pk).status == "payment_failed"


def test_a_charge_that_got_through_after_the_order_failed_is_refunded_in_full(worker, api, product, checkout_body,
                                                                              smtp_sink):
    """The race the cancel cannot win: the intent is confirmed with a good card first, and
    Stripe's (older) payment_failed event is what reaches Harbor. Harbor records the failure,
    then its void finds the charge: refunded in full, the order ends refunded, the shopper told."""
    order = place_3ds_order(api, checkout_body, "confirmed-behind-our-back@example.com")
    intent_id = Payment.objects.get(order=order).payment_intent_id
    shopper_authenticates(order, success=False)
    assert confirm_with_another_card(intent_id).status_code == 200  # charged at Stripe
    assert intent_status(intent_id) == "succeeded"

    failed = deliver(intent_event("payment_intent.payment_failed", order, status="requires_payment_method"))
    assert failed.json()["outcome"] == "order requires_action → payment_failed"

    assert wait_for_status(order.pk, ("refunded",), timeout=45).status == "refunded"
    assert refunded_at_stripe(order) == order.total
    assert succeeded_charges_by_order()[str(order.pk)] == 1  # the one charge, refunded
    events = list(OrderEvent.objects.filter(order=order).values_list("to_status", "message"))
    assert any("after the order ended (payment_failed)" in message for _, message in events)
    assert [to for to, _ in events if to] == ["pending", "requires_action", "payment_failed", "refunded"]
    assert len(eventually(lambda: smtp_sink.to(order.email, "refunded"))) == 1

    late = deliver(intent_event("payment_intent.succeeded", order))  # Stripe's own event, later: done with
    assert late.json()["outcome"] == "ignored: order is refunded"
    assert Payment.objects.get(order=order).refunds.count() == 1  # asked once, refunded once
    assert refunded_at_stripe(order) == order.total


def test_canceling_an_order_whose_failed_payment_left_its_intent_open_cancels_it_at_stripe(worker, api, product,
                                                                                          checkout_body, broker):
    """A failure learned by webhook is recorded at once; the intent is canceled after commit."""
    order = place_3ds_order(api, checkout_body, "webhook-failure@example.com")
    intent_id = Payment.objects.get(order=order).payment_intent_id

    deliver(intent_event("payment_intent.payment_failed", order, status="requires_payment_method"))

    assert Order.objects.get(pk=order.pk).status == "payment_failed"
    assert eventually(lambda: intent_status(intent_id) == "canceled", 30)
    assert eventually(lambda: Payment.objects.get(order=order).intent_canceled_at is not None, 30)
    assert confirm_with_another_card(intent_id).status_code == 400


def test_reconciliation_cancels_an_intent_left_open_when_the_void_task_was_lost(broker, db, settings,
                                                                               django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    order = Order.objects.create(email="lost-void@example.com", shipping_address={}, payment_method="pm_x", total=1,
                                 currency="usd", status="payment_failed")
    payment = Payment.objects.create(order=order, amount=1, currency="usd", status="failed",
                                     payment_intent_id="pi_left_open")
    Payment.objects.filter(pk=payment.pk).update(updated_at=timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER + 5))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("reconcile_orders", stdout=open("/dev/null", "w"))

    assert ("orders.tasks.void_payment", [str(order.pk)]) in queued_tasks(broker, "payments")


def test_an_admin_cancel_of_a_failed_payment_queues_the_void(broker, db, django_capture_on_commit_callbacks):
    order = Order.objects.create(email="review@example.com", shipping_address={}, payment_method="pm_x", total=1,
                                 currency="usd", status="needs_review")
    Payment.objects.create(order=order, amount=1, currency="usd", status="failed", payment_intent_id="pi_review")

    with django_capture_on_commit_callbacks(execute=True):
        cancel(order, actor="ops-ann")

    assert Order.objects.get(pk=order.pk).status == "canceled"
    assert ("orders.tasks.void_payment", [str(order.pk)]) in queued_tasks(broker, "payments")
