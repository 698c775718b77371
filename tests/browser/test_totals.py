"""Totals in a real browser: the checkout page offers the methods that serve the country and
prices the cart as the shopper changes country, method and code (htmx, no reload); the order
placed is charged exactly its total at localstripe, and the receipt shows the breakdown."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order
from payments import gateway
from payments.models import Payment
from tests.browser.test_shopper import CARD_OK, assert_not_reloaded, mark_page, order_id_of, wait_for_status
from tests.conftest import eventually
from tests.factories import ProductFactory


@pytest.fixture
def priced_shop(shop):
    """Two products and the demo's shipping methods, tax rates and vouchers (seed_catalog's)."""
    from demo.management.commands.seed_catalog import seed_pricing

    ProductFactory(sku="MUG-001", name="Harbor enamel mug", unit_price=1800, weight_grams=350, stock__available=20)
    ProductFactory(sku="BLK-FLC", name="Fleece blanket", unit_price=5900, weight_grams=1400, stock__available=5)
    seed_pricing()
    return shop


def total_shown(page):
    return page.locator("#summary [data-total]").inner_text()


def fill_address(page, country, email="erika@example.com"):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Full name").fill("Erika Mustermann")
    page.get_by_label("Address line 1").fill("Unter den Linden 1")
    page.get_by_label("City").fill("Berlin")
    page.get_by_label("Postal code").fill("10117")
    page.get_by_label("Country").select_option(country)


def test_a_shopper_buys_with_a_code_and_express_to_germany_and_is_charged_the_total(page, priced_shop, screenshot,
                                                                                   smtp_sink):
    page.goto("/products/MUG-001/")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    page.goto("/checkout/")
    mark_page(page)
    expect(page.locator("#shipping-methods")).to_contain_text("Choose your country")

    fill_address(page, "GB")
    expect(page.locator("#shipping-methods")).to_contain_text("Royal Mail Tracked 48")
    expect(page.locator("#summary")).to_contain_text("incl. VAT")
    gb_total = total_shown(page)
    screenshot("checkout-totals-gb")

    page.get_by_label("Country").select_option("DE")  # the methods and VAT follow the country
    expect(page.locator("#shipping-methods")).to_contain_text("Express (EU)")
    expect(page.locator("#summary")).to_contain_text("incl. MwSt.")
    assert total_shown(page) != gb_total
    page.locator("#shipping-methods label", has_text="Express (EU)").click()
    expect(page.locator("#summary")).to_contain_text("Shipping: Express (EU), 1–3 business days")
    expect(page.locator("#summary [data-total]")).to_have_text("$55.00")  # $36.00 + $19.00, VAT included
    screenshot("checkout-totals-de-express")

    page.get_by_label("Discount code").fill("NOPE10")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#discount-code-error")).to_have_text(re.compile("NOPE10 is not a code we know"))
    screenshot("checkout-voucher-error")
    page.get_by_label("Discount code").fill("welcome10")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#discount-code-error")).to_have_text("")
    expect(page.locator("#summary")).to_contain_text("Discount (WELCOME10)")
    expect(page.locator("#summary [data-total]")).to_have_text("$51.40")  # $36.00 − $3.60 + $19.00
    assert_not_reloaded(page)
    screenshot("checkout-totals-de-express-welcome10")

    number, month, year, cvc, postal = (page.locator("#card-element input").nth(i) for i in range(5))
    number.fill(CARD_OK), month.fill("12"), year.fill("34"), cvc.fill("123"), postal.fill("10117")
    page.get_by_role("button", name="Place order").click()
    order_id = order_id_of(page)
    wait_for_status(page, "fulfilled")
    expect(page.locator(".order-lines tfoot")).to_contain_text("Express (EU)")
    screenshot("order-with-totals")

    order = Order.objects.get(pk=order_id)
    assert (order.subtotal, order.discount, order.shipping, order.total) == (3600, 360, 1900, 5140)
    assert order.shipping_method == "eu-express" and order.discount_code == "WELCOME10" and order.tax > 0
    charge = gateway.charge_of_intent(Payment.objects.get(order=order).payment_intent_id)
    assert (charge.amount, charge.status, charge.currency) == (order.total, "succeeded", "usd")

    [receipt] = eventually(lambda: smtp_sink.to("erika@example.com", "on its way"))
    html = receipt.get_body(("html",)).get_content()
    for text in ("Discount (WELCOME10)", "Shipping: Express (EU)", "incl. MwSt.", "$51.40"):
        assert text in html
    page.set_content(html)
    screenshot("receipt-with-breakdown")
