"""Card testing is bounded (payments/card_testing.py): declines counted per client, per card
(Stripe's fingerprint, on localstripe here) and shop-wide, where passing the ceiling tightens
the other two and raises an alarm. The shopper's own e-mail address plays no part."""

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from harbor.clientip import client_id
from orders.checkout import place_order
from orders.fulfillment import _still_pending, apply_payment
from orders.models import Order
from payments import gateway
from payments.charge import Result, charge
from payments.models import Payment
from tests.factories import ProductFactory
from tests.test_authentication import card

pytestmark = pytest.mark.django_db(transaction=True)
ADDRESS = {"name": "A", "line1": "1 Road", "line2": "", "city": "C", "postal_code": "P", "country": "GB"}
DECLINED_WHEN_CHARGED = "4000000000000341"


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def mug(db):
    return ProductFactory(sku="MUG-001", unit_price=1800, stock__available=100)


def pay(mug, payment_method, ip="203.0.113.20"):
    """Place an order from `ip` and charge it here, as the worker would (localstripe)."""
    order, _ = place_order(email="tester@example.com", lines=[{"product": mug, "quantity": 1}],
                           payment_method=payment_method, shipping_address=ADDRESS,
                           client=client_id(RequestFactory().post("/", REMOTE_ADDR=ip)))
    apply_payment(order, charge(order, may_save_intent=lambda: _still_pending(order.pk)))
    return Order.objects.get(pk=order.pk), Payment.objects.get(order=order)


def test_a_card_declined_too_often_is_not_even_tried_again_from_any_client(mug, broker, settings):
    settings.CHECKOUT_FAILED_PAYMENTS_CARD_LIMIT = "2/day"
    for ip in ("203.0.113.21", "203.0.113.22"):  # the same card number, from two clients
        order, payment = pay(mug, card(DECLINED_WHEN_CHARGED), ip=ip)
        assert order.status == "payment_failed" and payment.card_fingerprint

    order, payment = pay(mug, card(DECLINED_WHEN_CHARGED), ip="203.0.113.23")  # a third client, same card

    assert order.status == "payment_failed" and "declined too many times" in payment.last_error
    intent = gateway.retrieve_intent(payment.payment_intent_id)
    assert intent.status == "canceled" and intent.latest_charge is None  # never confirmed: no charge tried
    assert pay(mug, card("4242424242424242"), ip="203.0.113.23")[0].status == "paid"  # another card is fine


def test_past_the_shop_wide_ceiling_one_decline_holds_a_client_off_and_the_alarm_metric_says_so(mug, broker,
                                                                                                 settings):
    settings.CHECKOUT_FAILED_PAYMENTS_LIMIT = "5/hour"
    settings.CHECKOUT_FAILED_PAYMENTS_SHOP_LIMIT = "3/hour"
    body = {"email": "a@example.com", "lines": [{"sku": "MUG-001", "quantity": 1}], "payment_method": "pm_card_visa",
            "shipping_address": ADDRESS}
    for i in range(2):  # two clients with one decline each: under the ceiling, nobody held off
        pay(mug, "pm_card_chargeCustomerFail", ip=f"198.51.100.{i}")
    assert APIClient().post("/api/orders/", body, format="json", REMOTE_ADDR="198.51.100.0").status_code == 202

    pay(mug, "pm_card_chargeCustomerFail", ip="198.51.100.2")  # the third: the ceiling is reached

    held = APIClient().post("/api/orders/", body, format="json", REMOTE_ADDR="198.51.100.0")
    clean = APIClient().post("/api/orders/", body, format="json", REMOTE_ADDR="192.0.2.50")
    assert held.status_code == 429 and int(held["Retry-After"]) > 0
    assert clean.status_code == 202  # a client without a decline still buys
    metrics = Client().get("/metrics").content.decode()
    assert "harbor_failed_payments_recent 3.0" in metrics and "harbor_failed_payments_ceiling 3.0" in metrics


def test_only_declines_count_not_an_order_canceled_before_payment(mug, broker, settings):
    from harbor import ratelimit
    from payments import card_testing

    settings.CHECKOUT_FAILED_PAYMENTS_LIMIT = "5/hour"
    order = Order.objects.create(email="c@example.com", shipping_address={}, payment_method="pm_x", total=1,
                                 currency="usd", client="client-x")
    Payment.objects.create(order=order, amount=1, currency="usd")

    apply_payment(order, Result("failed", "The order was canceled before payment."))

    assert ratelimit.times(card_testing.CLIENT + "client-x", 3600) == []
