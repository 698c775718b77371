"""3-D Secure end to end on a real worker and localstripe: the order waits in
requires_action, the shopper's authentication (or a webhook) completes it, and
reconciliation cancels it when the window closes. One charge at most, on every path."""

from datetime import timedelta

import requests
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from inventory.models import Stock
from orders import authentication
from orders.models import Order, OrderEvent
from payments import gateway
from payments.audit import succeeded_charges_by_order
from payments.models import Payment
from tests.conftest import eventually, wait_for_status
from tests.test_webhooks import deliver, intent_event

FINAL = ("fulfilled", "payment_failed", "canceled", "needs_review")


def card(number):
    """A PaymentMethod for a test card number, as Stripe.js makes one from the card element."""
    return gateway.client().v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}).id


def place_3ds_order(api, checkout_body, email):
    response = api.post("/api/orders/", checkout_body(email=email, payment_method=card("4000002760003184")),
                        format="json")
    assert response.status_code == 202, response.content
    order = wait_for_status(response.json()["id"], ("requires_action", *FINAL))
    assert order.status == "requires_action"
    return order


def shopper_authenticates(order, success):
    """What Stripe.js's confirmCardPayment does in the browser (localstripe's endpoint)."""
    payment = Payment.objects.get(order=order)
    response = requests.post(
        f"{settings.STRIPE_API_BASE}/v1/payment_intents/{payment.payment_intent_id}/_authenticate",
        params={"success": "true" if success else "false"},
        json={"key": settings.STRIPE_PUBLISHABLE_KEY, "client_secret": payment.client_secret}, timeout=10)
    assert response.status_code == 200, response.text


def test_a_3d_secure_order_waits_for_the_shopper_then_is_charged_once_and_fulfilled(worker, api, product,
                                                                                   checkout_body):
    order = place_3ds_order(api, checkout_body, "3ds-ok@example.com")
    shown = api.get(f"/api/orders/{order.pk}/").json()
    assert shown["status"] == "requires_action"
    assert shown["payment"]["client_secret"].startswith(shown["payment"]["payment_intent"] + "_secret_")
    assert succeeded_charges_by_order()[str(order.pk)] == 0

    shopper_authenticates(order, success=True)
    assert authentication.shopper_returned(order.pk)

    assert wait_for_status(order.pk, FINAL).status == "fulfilled"
    assert succeeded_charges_by_order()[str(order.pk)] == 1
    assert "client_secret" not in api.get(f"/api/orders/{order.pk}/").json()["payment"]
    assert list(OrderEvent.objects.filter(order=order).exclude(to_status="").values_list("to_status", flat=True)) == [
        "pending", "requires_action", "paid", "fulfilled"]


def test_failed_authentication_fails_the_payment_and_puts_the_stock_back(worker, api, product, checkout_body):
    order = place_3ds_order(api, checkout_body, "3ds-fail@example.com")
    assert Stock.objects.get(product=product).available == 48

    shopper_authenticates(order, success=False)
    authentication.shopper_returned(order.pk)

    assert wait_for_status(order.pk, FINAL).status == "payment_failed"
    assert Stock.objects.get(product=product).available == 50
    assert succeeded_charges_by_order()[str(order.pk)] == 0


def test_a_page_that_never_told_harbor_is_caught_by_the_payment_intent_succeeded_webhook(worker, api, product,
                                                                                        checkout_body):
    order = place_3ds_order(api, checkout_body, "3ds-webhook@example.com")
    shopper_authenticates(order, success=True)  # ... and the shopper closed the tab

    response = deliver(intent_event("payment_intent.succeeded", Order.objects.select_related("payment").get(pk=order.pk)))

    assert response.json()["outcome"] == "order requires_action → paid"
    assert wait_for_status(order.pk, FINAL).status == "fulfilled"
    assert succeeded_charges_by_order()[str(order.pk)] == 1


def test_reconciliation_cancels_an_order_not_authenticated_within_the_window(worker, api, product, checkout_body,
                                                                           smtp_sink):
    order = place_3ds_order(api, checkout_body, "3ds-late@example.com")
    long_ago = timezone.now() - timedelta(seconds=settings.AUTHENTICATION_WINDOW + 60)
    OrderEvent.objects.filter(order=order, to_status="requires_action").update(created_at=long_ago)
    Order.objects.filter(pk=order.pk).update(updated_at=long_ago)

    call_command("reconcile_orders")

    assert wait_for_status(order.pk, FINAL).status == "canceled"
    intent = gateway.retrieve_intent(Payment.objects.get(order=order).payment_intent_id)
    assert intent.status == "canceled"  # it can never be charged now
    assert Stock.objects.get(product=product).available == 50
    minutes = settings.AUTHENTICATION_WINDOW // 60  # 15 by default: the stock is held meanwhile
    assert f"not authenticated within {minutes} minutes" in OrderEvent.objects.get(order=order,
                                                                                  to_status="canceled").message
    [mail] = eventually(lambda: smtp_sink.to("3ds-late@example.com", "canceled"))
    assert "Nothing has been charged" in mail.get_body(("plain",)).get_content()
    assert succeeded_charges_by_order()[str(order.pk)] == 0


def test_within_the_window_reconciliation_only_looks_at_stripe_again(worker, api, product, checkout_body):
    order = place_3ds_order(api, checkout_body, "3ds-waiting@example.com")
    shopper_authenticates(order, success=True)  # authenticated, but neither the page nor a webhook told us
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER + 5))

    call_command("reconcile_orders")

    assert wait_for_status(order.pk, FINAL).status == "fulfilled"
    assert succeeded_charges_by_order()[str(order.pk)] == 1



def awaiting_authentication(email):
    return Order.objects.create(email=email, shipping_address={}, payment_method="pm_x", total=1, currency="usd",
                                status="requires_action")


def test_telling_harbor_twice_in_a_row_writes_one_event_and_sends_one_task(db, broker,
                                                                          django_capture_on_commit_callbacks):
    from django.test import Client

    from tests.conftest import queued_tasks

    order = awaiting_authentication("twice@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        answers = [Client().post(f"/orders/{order.pk}/authenticated/") for _ in range(5)]

    assert {a.status_code for a in answers} == {303}
    assert OrderEvent.objects.filter(order=order, actor="storefront").count() == 1
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(order.pk)])]


def test_after_the_window_the_shopper_may_ask_again(db, broker, settings, django_capture_on_commit_callbacks):
    order = awaiting_authentication("again@example.com")
    assert authentication.shopper_returned(order.pk)
    OrderEvent.objects.filter(order=order).update(created_at=timezone.now() - timedelta(
        seconds=settings.SHOPPER_RETURN_WINDOW + 1))

    assert authentication.shopper_returned(order.pk)
    assert not authentication.shopper_returned(order.pk)


def test_one_client_posting_too_often_is_told_to_wait(db, broker, settings):
    from django.core.cache import cache
    from django.test import Client

    cache.clear()
    settings.SHOPPER_RETURN_LIMIT = "3/minute"
    orders = [awaiting_authentication(f"flood-{i}@example.com") for i in range(4)]
    client = Client(REMOTE_ADDR="203.0.113.40")

    answers = [client.post(f"/orders/{order.pk}/authenticated/").status_code for order in orders]

    assert answers == [303, 303, 303, 429]
    assert not OrderEvent.objects.filter(order=orders[3]).exists()
    cache.clear()
