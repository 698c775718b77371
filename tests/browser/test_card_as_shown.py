"""The test card as the checkout page shows it, "4242 4242 4242 4242", typed key by key into
the dev card element (localstripe's fake Stripe.js, as `make run` serves it), pays."""

import re

import requests
from django.conf import settings
from playwright.sync_api import expect

from orders.models import Order
from payments.audit import succeeded_charges_by_order
from tests.factories import ProductFactory


def test_the_card_typed_as_the_page_shows_it_pays(page, shop, screenshot):
    ProductFactory(sku="MUG-001", name="Harbor enamel mug", unit_price=1800, stock__available=5)
    page.goto("/")
    page.locator(".card", has_text="Harbor enamel mug").get_by_role("button", name="Add to cart").click()
    page.goto("/checkout/")
    shown = page.locator(".test-banner strong").inner_text()
    assert shown == "4242 4242 4242 4242"
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address line 1").fill("12 Dock Road")
    page.get_by_label("City").fill("Portsmouth")
    page.get_by_label("Postal code").fill("PO1 3AX")
    page.get_by_label("Country").select_option("GB")
    number, month, year, cvc, postal = (page.locator("#card-element input").nth(i) for i in range(5))

    number.press_sequentially(shown)  # key by key, spaces included

    expect(number).to_have_value("4242 4242 4242 4242")  # shown as typed, in groups of four
    expect(month).to_have_value("")  # nothing spilled into the expiry
    expect(month).to_be_focused()  # and on to the expiry after the 16th digit, as before
    month.press_sequentially("12"), year.press_sequentially("34"), cvc.press_sequentially("123")
    postal.press_sequentially("PO13AX")
    screenshot("checkout-card-with-spaces")
    page.get_by_role("button", name="Place order").click()

    page.wait_for_url(re.compile(r"/orders/[0-9a-f-]{36}/$"))
    expect(page.locator("[data-status]")).to_have_attribute("data-status", "fulfilled", timeout=45_000)
    order = Order.objects.select_related("payment").get()
    card = requests.get(f"{settings.STRIPE_API_BASE}/v1/payment_methods/{order.payment.payment_method_id}",
                        auth=(settings.STRIPE_SECRET_KEY, ""), timeout=10).json()["card"]
    assert (card["last4"], card["exp_month"], card["exp_year"]) == ("4242", 12, 2034)
    assert succeeded_charges_by_order()[str(order.pk)] == 1
