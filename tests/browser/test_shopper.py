"""A shopper in a real browser: browse, fill a cart, pay by card, watch the order move.

Chromium (Playwright) against gunicorn + a Celery worker + localstripe + PostgreSQL + Redis.
localstripe's card element is five plain inputs (number, exp month, two-digit exp year, CVC,
postal code) and its 3-D Secure check a modal with "Complete authentication" / "Fail
authentication"; everything else is the page as production serves it.
"""

import re

import pytest
from playwright.sync_api import expect

from inventory.models import Stock
from orders.models import Order
from payments.audit import succeeded_charges_by_order
from tests.factories import ProductFactory

CARD_OK, CARD_REFUSED_AT_SETUP, CARD_DECLINED, CARD_3DS = (
    "4242424242424242", "4000000000000002", "4000000000000341", "4000002760003184")
FINAL = re.compile("fulfilled|payment_failed|canceled|refunded")


@pytest.fixture
def products(shop):
    return {
        "mug": ProductFactory(sku="MUG-001", name="Harbor enamel mug", unit_price=1800, stock__available=20),
        "tote": ProductFactory(sku="TOTE-CNV", name="Canvas tote", unit_price=1500, stock__available=4),
        "cap": ProductFactory(sku="CAP-NVY", name="Deckhand cap", unit_price=2200, stock__available=0),
    }


def add_from_catalog(page, name):
    page.goto("/")
    page.locator(".card", has_text=name).get_by_role("button", name="Add to cart").click()
    expect(page.locator(".messages")).to_contain_text(f"to your cart")


def fill_checkout(page, card, email="ada@example.com", line1="12 Dock Road"):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Address line 1").fill(line1)
    page.get_by_label("City").fill("Portsmouth")
    page.get_by_label("Postal code").fill("PO1 3AX")
    page.get_by_label("Country").select_option("GB")
    number, month, year, cvc, postal = (page.locator("#card-element input").nth(i) for i in range(5))
    number.fill(card), month.fill("12"), year.fill("34"), cvc.fill("123"), postal.fill("PO13AX")


def order_id_of(page):
    page.wait_for_url(re.compile(r"/orders/[0-9a-f-]{36}/$"))
    return re.search(r"/orders/([0-9a-f-]{36})/", page.url).group(1)


def wait_for_status(page, status, timeout=45_000):
    expect(page.locator("[data-status]")).to_have_attribute("data-status", status, timeout=timeout)


def mark_page(page):
    """Tag the current document: if the tag survives, the page was never reloaded."""
    page.evaluate("window.__sameDocument = true")


def assert_not_reloaded(page):
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"


def test_shopper_buys_two_products_and_watches_the_order_get_fulfilled(page, products, screenshot, smtp_sink):
    page.goto("/")
    expect(page.locator(".card")).to_have_count(3)
    expect(page.locator(".card", has_text="Deckhand cap")).to_contain_text("Sold out")
    expect(page.locator(".card", has_text="Canvas tote")).to_contain_text("Only 4 left")
    expect(page.get_by_role("link", name=re.compile(r"^Cart"))).to_have_text("Cart (0)")
    screenshot("catalog")

    page.get_by_role("link", name="Harbor enamel mug").click()
    expect(page).to_have_url(re.compile("/products/MUG-001/$"))
    screenshot("product")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    add_from_catalog(page, "Canvas tote")
    expect(page.get_by_role("link", name=re.compile(r"^Cart"))).to_have_text("Cart (3)")

    page.get_by_role("link", name=re.compile(r"^Cart")).click()
    tote = page.locator(".cart-line", has_text="Canvas tote")
    tote.get_by_label("Quantity").fill("3")
    tote.get_by_role("button", name="Update").click()
    expect(page.locator("#subtotal")).to_have_text("$81.00")  # 2 × $18 + 3 × $15
    screenshot("cart")

    page.get_by_role("link", name="Checkout").click()
    fill_checkout(page, CARD_OK)
    screenshot("checkout")
    page.get_by_role("button", name="Place order").click()
    order_id = order_id_of(page)
    mark_page(page)
    screenshot("status-pending")

    wait_for_status(page, "fulfilled")
    assert_not_reloaded(page)
    tracking = page.locator("#tracking-number").inner_text()
    assert re.fullmatch(r"HB\d{14}", tracking)
    label = page.request.get(page.get_by_role("link", name="Download label").get_attribute("href"))
    assert label.status == 200 and label.headers["content-type"] == "application/pdf"
    assert label.body().startswith(b"%PDF")
    expect(page.locator(".order-live")).to_contain_text("Receipt sent to ada@example.com")
    screenshot("status-fulfilled")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    screenshot("status-fulfilled-phone")
    page.goto("/")
    screenshot("catalog-phone")

    order = Order.objects.get(pk=order_id)
    assert order.status == "fulfilled" and order.total == 8100
    assert order.shipment.tracking_number == tracking
    assert succeeded_charges_by_order()[order_id] == 1
    assert dict(Stock.objects.values_list("product__sku", "available")) == {"MUG-001": 18, "TOTE-CNV": 1,
                                                                            "CAP-NVY": 0}


def test_a_card_refused_at_setup_shows_stripes_message_under_the_card_and_places_no_order(page, products,
                                                                                          screenshot):
    add_from_catalog(page, "Harbor enamel mug")
    page.goto("/checkout/")
    fill_checkout(page, CARD_REFUSED_AT_SETUP)

    page.get_by_role("button", name="Place order").click()

    expect(page.locator("#card-errors")).to_have_text("Your card was declined.")
    expect(page.get_by_role("button", name="Place order")).to_be_enabled()
    expect(page).to_have_url(re.compile("/checkout/$"))
    screenshot("checkout-card-refused")
    assert not Order.objects.exists()
    assert Stock.objects.get(product__sku="MUG-001").available == 20


def test_an_address_the_label_cannot_print_is_explained_under_its_field_and_places_no_order(page, products,
                                                                                             screenshot):
    add_from_catalog(page, "Harbor enamel mug")
    page.goto("/checkout/")
    fill_checkout(page, CARD_OK, line1="12 Dock Road 🙂")

    page.get_by_role("button", name="Place order").click()

    expect(page.locator("#id_line1-error")).to_contain_text(
        "“🙂” (U+1F642) cannot be printed on a shipping label: use the letters, digits and punctuation")
    expect(page.get_by_label("Address line 1")).to_have_value("12 Dock Road 🙂")  # kept, to correct
    screenshot("checkout-unprintable-address")
    assert not Order.objects.exists()
    assert Stock.objects.get(product__sku="MUG-001").available == 20


def test_a_card_declined_when_charged_ends_payment_failed_with_the_stock_back(page, products, screenshot):
    add_from_catalog(page, "Canvas tote")
    page.goto("/checkout/")
    fill_checkout(page, CARD_DECLINED, email="declined@example.com")
    page.get_by_role("button", name="Place order").click()
    order_id = order_id_of(page)
    mark_page(page)

    wait_for_status(page, "payment_failed")
    assert_not_reloaded(page)
    expect(page.locator(".order-live")).to_contain_text("Your payment did not go through")
    expect(page.locator(".order-live")).to_contain_text("Nothing was charged")
    screenshot("status-payment-failed")
    assert Stock.objects.get(product__sku="TOTE-CNV").available == 4
    assert succeeded_charges_by_order()[order_id] == 0

    page.get_by_role("button", name="Back to cart to try another card").click()
    expect(page).to_have_url(re.compile("/cart/$"))
    expect(page.locator(".cart-line", has_text="Canvas tote")).to_be_visible()


@pytest.mark.parametrize("outcome", ["Complete authentication", "Fail authentication"])
def test_3d_secure_is_authenticated_by_the_shopper_on_the_order_page(page, products, screenshot, outcome):
    add_from_catalog(page, "Harbor enamel mug")
    page.goto("/checkout/")
    fill_checkout(page, CARD_3DS, email=f"3ds-{outcome[:4].lower()}@example.com")
    page.get_by_role("button", name="Place order").click()
    # Setting the card up asks for authentication too (as on Stripe): the shopper completes it.
    page.get_by_role("button", name="Complete authentication").click()
    order_id = order_id_of(page)

    wait_for_status(page, "requires_action")
    expect(page.locator(".order-live")).to_contain_text("Please authenticate your payment")
    screenshot("status-3ds-prompt")
    page.get_by_role("button", name="Authenticate payment").click()
    expect(page.get_by_role("button", name=outcome)).to_be_visible()
    screenshot("3ds-bank-check")
    page.get_by_role("button", name=outcome).click()

    expected = "fulfilled" if outcome.startswith("Complete") else "payment_failed"
    order_id_of(page)
    wait_for_status(page, expected)
    if expected == "payment_failed":
        screenshot("status-3ds-failed")
        assert Stock.objects.get(product__sku="MUG-001").available == 20
    assert succeeded_charges_by_order()[order_id] == (1 if expected == "fulfilled" else 0)
    assert Order.objects.get(pk=order_id).events.filter(to_status="requires_action").count() == 1


def test_a_double_click_on_place_order_makes_one_order_and_one_charge(page, products):
    add_from_catalog(page, "Harbor enamel mug")
    page.goto("/checkout/")
    fill_checkout(page, CARD_OK, email="double@example.com")
    token = page.locator("[name=checkout_token]").input_value()

    page.get_by_role("button", name="Place order").dblclick()
    order_id = order_id_of(page)
    wait_for_status(page, "fulfilled")

    # And the same page's form posted once more (a reload of the POST, or back and submit):
    again = page.request.post("/checkout/", max_redirects=0, form={
        "csrfmiddlewaretoken": page.locator("meta[name=csrf-token]").get_attribute("content"),
        "checkout_token": token, "payment_method": "pm_card_visa", "email": "double@example.com",
        "name": "Ada", "line1": "1 Road", "city": "C", "postal_code": "P", "country": "GB"},
        headers={"Referer": page.url})
    assert again.status == 303 and again.headers["location"] == f"/orders/{order_id}/"
    assert Order.objects.count() == 1
    assert succeeded_charges_by_order()[order_id] == 1


def test_stock_sold_out_while_the_shopper_was_on_the_checkout_page(page, products, screenshot):
    add_from_catalog(page, "Canvas tote")
    page.goto("/checkout/")
    fill_checkout(page, CARD_OK, email="late@example.com")
    charges_before = sum(succeeded_charges_by_order().values())
    Stock.objects.filter(product__sku="TOTE-CNV").update(available=0)  # someone else bought the last ones

    page.get_by_role("button", name="Place order").click()

    expect(page).to_have_url(re.compile("/cart/$"))
    expect(page.locator(".messages")).to_contain_text("Nothing was charged")
    expect(page.locator(".cart-line", has_text="Canvas tote")).to_contain_text("Sold out")
    screenshot("cart-sold-out")
    assert not Order.objects.exists()
    assert Stock.objects.get(product__sku="TOTE-CNV").available == 0
    assert sum(succeeded_charges_by_order().values()) == charges_before


def test_checkout_with_the_keyboard_only(page, products):
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip-link")).to_be_focused()
    add = page.locator(".card", has_text="Harbor enamel mug").get_by_role("button", name="Add to cart")
    for _ in range(40):
        page.keyboard.press("Tab")
        if add.evaluate("el => el === document.activeElement"):
            break
    outline = add.evaluate("el => getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth")
    assert outline.startswith("solid") and not outline.endswith(" 0px"), outline  # focus is visible
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name=re.compile(r"^Cart"))).to_have_text("Cart (1)")

    page.get_by_role("link", name=re.compile(r"^Cart")).focus()
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Checkout").focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("/checkout/$"))

    page.get_by_label("Email").focus()
    # Email, full name, address lines 1 and 2, city, postal code, state / province / region
    for text in ["keys@example.com", "Ada Lovelace", "12 Dock Road", "", "Portsmouth", "PO1 3AX", ""]:
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    page.keyboard.type("United Kingdom")  # a select picks by typing
    expect(page.get_by_label("Country")).to_have_value("GB")
    expect(page.locator("#shipping-methods")).to_contain_text("Standard")  # the methods for the country
    # On through the shipping method (one stop for the group), the discount code and its button,
    # into the card element, which moves on by itself as each part is complete.
    card = page.locator("#card-element input").first
    for _ in range(6):
        page.keyboard.press("Tab")
        if card.evaluate("el => el === document.activeElement"):
            break
    expect(card).to_be_focused()
    page.keyboard.type(CARD_OK + "12" + "34" + "123" + "PO13AX")
    page.get_by_role("button", name="Place order").focus()
    page.keyboard.press("Enter")

    order_id = order_id_of(page)
    wait_for_status(page, "fulfilled")
    assert Order.objects.get(pk=order_id).email == "keys@example.com"
