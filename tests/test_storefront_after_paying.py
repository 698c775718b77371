"""What a shopper sees after paying: Back from the order lands on an empty cart that says so
once and links the order just placed; the status page shows refunds as they are made."""

import re

import pytest
from django.test import Client

from orders.models import Order
from payments.models import Payment, Refund
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)  # checkout's on_commit must fire
ADDRESS = {"email": "ada@example.com", "name": "Ada Lovelace", "line1": "12 Dock Road", "line2": "",
           "city": "Portsmouth", "postal_code": "PO1 3AX", "country": "GB"}


@pytest.fixture
def mug(db):
    return ProductFactory(sku="MUG-001", name="Enamel mug", unit_price=1100, stock__available=50)


def buy(client, quantity=2):
    client.post("/cart/add/", {"sku": "MUG-001", "quantity": quantity})
    page = client.get("/checkout/").content.decode()
    token = re.search(r'name="checkout_token" value="([0-9a-f]{32})"', page).group(1)
    response = client.post("/checkout/", {**ADDRESS, "payment_method": "pm_card_visa", "checkout_token": token})
    assert response.status_code == 303
    return Order.objects.get(pk=response["Location"].split("/")[2])


def test_back_after_paying_shows_the_empty_cart_once_and_links_the_order_just_placed(mug, broker):
    client = Client()
    order = buy(client)

    back = client.get("/checkout/", follow=True)  # the browser's Back button lands here

    page = back.content.decode()
    assert back.redirect_chain == [("/cart/", 303)]
    assert page.count("Your cart is empty.") == 1
    link = re.search(r'<a href="([^"]+)" id="last-order">Your last order</a>', page)
    assert link and link.group(1) == f"/orders/{order.pk}/"
    assert "$22.00" in page and "Processing" in page  # its total and status in the shopper's words


def test_the_last_order_link_belongs_to_the_session_that_placed_it(mug, broker):
    buy(Client())

    page = Client().get("/cart/").content.decode()

    assert "Your cart is empty." in page and "Your last order" not in page


def test_a_cart_with_items_shows_them_not_the_last_order(mug, broker):
    client = Client()
    buy(client)
    client.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})

    assert "Your last order" not in client.get("/cart/").content.decode()


def fulfilled_order(mug):
    order = Order.objects.create(email="ada@example.com", shipping_address={**ADDRESS}, payment_method="pm_card_visa",
                                 total=2200, currency="usd", status="fulfilled")
    order.lines.create(product=mug, sku="MUG-001", quantity=2, unit_price=1100)
    payment = Payment.objects.create(order=order, amount=2200, currency="usd", status="succeeded",
                                     payment_intent_id="pi_refunds")
    return order, payment


def test_the_status_page_shows_a_partial_refund(mug):
    order, payment = fulfilled_order(mug)
    Refund.objects.create(payment=payment, amount=500, status="succeeded", stripe_id="re_1", reason="dented")
    Refund.objects.create(payment=payment, amount=300, status="failed", stripe_id="re_2")  # gave nothing back
    Refund.objects.create(payment=payment, amount=200, status="requested")
    Payment.objects.filter(pk=payment.pk).update(amount_refunded=500)

    page = Client().get(f"/orders/{order.pk}/").content.decode()

    assert 'data-status="fulfilled"' in page
    assert "$22.00 charged, $5.00 refunded" in page
    refunds = re.search(r'<div class="callout refunds" id="refunds">(.*?)</div>', page, re.S).group(1)
    assert "$5.00 of $22.00 back to your card so far" in refunds
    items = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", li)).strip() for li in re.findall(r"<li>(.*?)</li>", refunds, re.S)]
    assert [item.split(" (")[0] for item in items] == ["$5.00: refunded", "$2.00: refund requested"]


def test_the_status_page_of_an_order_refunded_in_full_says_how_much(mug):
    order, payment = fulfilled_order(mug)
    Order.objects.filter(pk=order.pk).update(status="refunded")
    Refund.objects.create(payment=payment, amount=2200, status="succeeded", stripe_id="re_all")
    Payment.objects.filter(pk=payment.pk).update(amount_refunded=2200, status="refunded")

    page = Client().get(f"/orders/{order.pk}/").content.decode()

    assert 'data-status="refunded"' in page and "$22.00 has been refunded to your card." in page
    assert "$22.00 charged, $22.00 refunded" in page


def test_without_refunds_the_status_page_shows_none(mug):
    order, _ = fulfilled_order(mug)

    page = Client().get(f"/orders/{order.pk}/").content.decode()

    assert "$22.00 charged</span>" in page and 'id="refunds"' not in page
