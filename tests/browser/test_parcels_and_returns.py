"""Parcels and returns in a real browser: an order whose items sit in two warehouses ships in two
parcels, each listed on the order page with its own label (sender: its warehouse); then the
shopper opens the receipt's return link, sends one item back, ops approve and receive it, and
the order page shows the refund, which localstripe counts once."""

import re

import pypdfium2
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from orders.models import Order
from payments import gateway
from payments.models import Payment
from returns.models import Return
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_shopper import CARD_OK, order_id_of, wait_for_status
from tests.conftest import eventually
from tests.factories import ProductFactory, StockFactory, WarehouseFactory

NEWARK = {"name": "Harbor Newark", "line1": "400 Raymond Blvd", "city": "Newark", "region": "NJ",
          "postal_code": "07105", "country": "US"}
PORTSMOUTH = {"name": "Harbor Portsmouth", "line1": "1 Quay Street", "city": "Portsmouth",
              "postal_code": "PO1 2AB", "country": "GB"}


@pytest.fixture
def two_warehouse_shop(shop):
    """The mug only in Portsmouth, the tee only in Newark: buying both makes two parcels."""
    newark = WarehouseFactory(code="newark", name="Newark, US", priority=1, countries=["US"], address=NEWARK)
    portsmouth = WarehouseFactory(code="portsmouth", name="Portsmouth, UK", priority=2, address=PORTSMOUTH)
    mug = ProductFactory(sku="MUG-001", name="Harbor enamel mug", unit_price=1800, stock=None)
    tee = ProductFactory(sku="TEE-BLK-M", name="Harbor tee, black, M", unit_price=2400, stock=None)
    StockFactory(product=mug, warehouse=portsmouth, available=10)
    StockFactory(product=tee, warehouse=newark, available=10)
    return shop


def buy(page, email):
    for sku in ("MUG-001", "TEE-BLK-M"):
        page.goto(f"/products/{sku}/")
        page.get_by_role("button", name="Add to cart").click()
    page.goto("/checkout/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Address line 1").fill("1 Main St")
    page.get_by_label("City").fill("Arlington")
    page.get_by_label("State / Province / Region").fill("VA")
    page.get_by_label("Postal code").fill("22201")
    page.get_by_label("Country").select_option("US")
    number, month, year, cvc, postal = (page.locator("#card-element input").nth(i) for i in range(5))
    number.fill(CARD_OK), month.fill("12"), year.fill("34"), cvc.fill("123"), postal.fill("22201")
    page.get_by_role("button", name="Place order").click()
    order_id = order_id_of(page)
    wait_for_status(page, "fulfilled")
    return Order.objects.get(pk=order_id)


def label_png(page, href, name):
    """Fetch a label as the shopper's browser would and render it to PNG (to look at)."""
    response = page.request.get(href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    (SCREENSHOTS / f"{name}.pdf").write_bytes(response.body())
    document = pypdfium2.PdfDocument(response.body())
    document[0].render(scale=110 / 72).to_pil().save(SCREENSHOTS / f"{name}.png")
    document.close()
    return response.body()


def test_two_warehouses_two_parcels_each_with_its_label(page, two_warehouse_shop, screenshot):
    order = buy(page, "two-parcels@example.com")

    parcels = page.locator(".parcels .parcel")
    expect(parcels).to_have_count(2)
    expect(parcels.nth(0)).to_contain_text("Parcel 1 of 2")
    shipments = list(order.shipments.select_related("warehouse"))
    for n, shipment in enumerate(shipments):
        expect(parcels.nth(n)).to_contain_text(shipment.tracking_number)
        expect(parcels.nth(n)).to_contain_text(f"from {shipment.warehouse.name}")
    screenshot("order-two-parcels")

    senders = set()
    for n, shipment in enumerate(shipments, 1):
        href = parcels.nth(n - 1).get_by_role("link", name=re.compile("Download label")).get_attribute("href")
        pdf = label_png(page, href, f"label-parcel-{n}")
        assert shipment.tracking_number.encode() in pdf
        senders.add(shipment.warehouse.code)
    assert senders == {"newark", "portsmouth"}


def test_a_return_from_the_receipt_link_to_the_refund_counted_at_stripe(page, two_warehouse_shop, screenshot,
                                                                        smtp_sink):
    order = buy(page, "return-browser@example.com")
    [receipt] = eventually(lambda: smtp_sink.to("return-browser@example.com", "on its way"))
    # The receipt's signed link, on this test's shop (SITE_URL names the real one).
    link = re.search(r'href="https?://[^/"]+(/orders/link/[^"]+/return/)"',
                     receipt.get_body(("html",)).get_content()).group(1)

    page.goto(link)
    expect(page.get_by_role("heading", name="Return items")).to_be_visible()
    screenshot("return-form")
    page.get_by_label("Harbor enamel mug").fill("1")
    page.get_by_label("Why are they coming back?").fill("The handle is chipped")
    page.get_by_role("button", name="Request the return").click()
    expect(page.locator("#returns")).to_contain_text("Return")
    expect(page.locator("#returns")).to_contain_text("1 × MUG-001")
    expect(page.locator("#returns")).to_contain_text("we will e-mail you once it is approved")
    screenshot("order-return-requested")

    ret = Return.objects.get(order=order)
    call_command("approve_return", str(ret.pk))
    page.reload()
    expect(page.locator("#returns")).to_contain_text("please send the items back")
    expect(page.locator("#returns address")).to_contain_text("1 Quay Street")  # where the mug came from
    screenshot("order-return-approved")

    call_command("receive_return", str(ret.pk))
    intent = Payment.objects.get(order=order).payment_intent_id
    eventually(lambda: [r.amount for r in gateway.refunds_for_intent(intent) if r.status == "succeeded"] == [1800],
               30)
    # The page shows the refund once Harbor has settled it (the order's total and events, in the
    # transaction after Stripe's answer is recorded): reload until it does.
    def refund_shown():
        page.reload()
        return "$18.00 refunded to your card" in page.locator("#returns").inner_text()

    eventually(refund_shown, 30)
    expect(page.locator("#returns")).to_contain_text("$18.00 refunded to your card")
    screenshot("order-return-refunded")

    assert [r.amount for r in gateway.refunds_for_intent(intent)] == [1800]  # once, the mug's share
    assert Order.objects.get(pk=order.pk).status == "fulfilled"
