"""Finding an order again in a real browser: the page answers the same whether the order
exists or not, is limited per address, and the e-mailed signed link opens the order's page."""

import re

import pytest
from playwright.sync_api import expect

from orders import checkout
from tests.browser.test_accounts import link_in, mail_to
from tests.factories import ProductFactory


@pytest.fixture
def order(shop, fresh_account_limits):
    ProductFactory(sku="MUG-001", name="Harbor enamel mug", unit_price=1800, stock__available=20)
    placed, _ = checkout.place_order(email="quinn@example.com", lines=[{"sku": "MUG-001", "quantity": 2}],
                                     payment_method="pm_card_visa", shipping_address={
                                         "name": "Quinn Harbour", "line1": "3 Pier Road", "city": "Cowes",
                                         "postal_code": "PO31 7AA", "country": "GB"})
    checkout.enqueue_fulfillment(placed.pk)
    return placed


def ask(page, email, reference):
    page.goto("/orders/find/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Order reference").fill(reference)
    page.get_by_role("button", name="E-mail me the link").click()


def test_find_my_order_answers_alike_emails_the_signed_link_and_is_limited(page, order, smtp_sink, screenshot):
    ask(page, "Quinn@example.com", order.reference.lower())
    answer = page.locator("#find-order-answer").inner_text()
    screenshot("find-order")
    ask(page, "quinn@example.com", "HB-99999")
    assert page.locator("#find-order-answer").inner_text() == answer.replace(order.reference, "HB-99999").replace(
        "Quinn@example.com", "quinn@example.com")

    message = mail_to(smtp_sink, "quinn@example.com", "your link")
    assert len(smtp_sink.to("quinn@example.com", "your link")) == 1  # nothing for the order that does not exist
    page.set_content(message.get_body(("html",)).get_content())
    screenshot("find-order-email")
    page.goto(link_in(message, "/orders/link/"))
    expect(page).to_have_url(re.compile(f"/orders/{order.pk}/$"))
    expect(page.locator("[data-status]")).to_be_visible()
    expect(page.locator(".eyebrow")).to_contain_text(order.reference)

    ask(page, "quinn@example.com", order.reference)  # the address's third request this hour
    ask(page, "quinn@example.com", order.reference)
    expect(page.locator(".form-errors")).to_contain_text("Too many requests")
    assert len(smtp_sink.to("quinn@example.com", "your link")) == 2
