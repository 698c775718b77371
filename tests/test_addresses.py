"""An address is written the way its country's post expects, by one function
(orders/addresses.py), wherever Harbor prints it: the label, the receipt, the admin and
the order page. The receipt names the products, not their SKUs."""

import re

import pytest

from notifications import emails
from orders import labels
from orders.addresses import address_lines
from orders.models import Order, OrderLine, Shipment
from tests.factories import ProductFactory
from tests.pdftext import printed_lines

PORTLAND = {"name": "Ada O'Brien", "line1": "1 Main St", "line2": "Apt 2", "city": "Portland", "region": "OR",
            "postal_code": "97201", "country": "US"}


@pytest.mark.parametrize(("address", "lines"), [
    (PORTLAND, ["Ada O'Brien", "1 Main St", "Apt 2", "Portland, OR 97201", "United States"]),
    (dict(PORTLAND, region="", line2=""), ["Ada O'Brien", "1 Main St", "Portland 97201", "United States"]),
    ({"name": "Ada", "line1": "12 Dock Road", "city": "Portsmouth", "region": "Hampshire", "postal_code": "PO1 3AX",
      "country": "GB"}, ["Ada", "12 Dock Road", "Portsmouth", "Hampshire", "PO1 3AX", "United Kingdom"]),
    ({"name": "Ada", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117", "country": "de"},
     ["Ada", "Unter den Linden 1", "10117 Berlin", "Germany"]),
    ({"name": "Ada", "line1": "1 King St W", "city": "Toronto", "region": "ON", "postal_code": "M5H 1A1",
      "country": "CA"}, ["Ada", "1 King St W", "Toronto ON M5H 1A1", "Canada"]),
])
def test_address_lines_follow_the_country(address, lines):
    assert address_lines(address) == lines


@pytest.fixture
def order(db):
    order = Order.objects.create(email="ada@example.com", shipping_address=PORTLAND, payment_method="pm_card_visa",
                                 total=5400, currency="usd")
    for i, (sku, name) in enumerate([("MUG-001", "Harbor enamel mug"), ("TEE-BLK-M", "Lighthouse tee, black, M")]):
        OrderLine.objects.create(order=order, product=ProductFactory(sku=sku, name=name), sku=sku, quantity=i + 1,
                                 unit_price=1800)
    return order


def test_the_label_prints_the_address_in_its_country_s_order(order):
    pdf = labels.render(order, Shipment(order=order, tracking_number="HB12345678901234"))

    printed = [line.text for line in printed_lines(pdf)]

    assert printed[printed.index("SHIP TO") + 1:][:5] == address_lines(PORTLAND)
    assert "1 x MUG-001" in printed and "2 x TEE-BLK-M" in printed


def test_a_long_order_stops_above_the_barcode(order):
    many = dict(PORTLAND, country="GB", line2="Flat 2")  # seven lines: postcode and region on their own
    order.shipping_address = many
    order.lines.all().delete()
    for i in range(20):
        OrderLine.objects.create(order=order, product=ProductFactory(), sku=f"SKU-{i}", quantity=1, unit_price=1)

    printed = printed_lines(labels.render(order, Shipment(order=order, tracking_number="HB12345678901234")))

    items = [line for line in printed if re.fullmatch(r"\d+ x SKU-\d+|\+ \d+ more", line.text)]
    assert items[-1].text == f"+ {20 - len(items) + 1} more"
    assert min(line.baseline for line in items) > labels.BARCODE_TOP


def test_the_receipt_names_the_products_and_writes_the_address_for_its_country(order, mailoutbox):
    Shipment.objects.create(order=order, tracking_number="HB12345678901234")

    assert emails.send(order.pk, "receipt")

    (message,) = mailoutbox
    text, html = message.body, message.alternatives[0][0]
    assert "1 x Harbor enamel mug" in text and "2 x Lighthouse tee, black, M" in text
    assert "MUG-001" not in text and "MUG-001" not in html and "<td>Harbor enamel mug</td>" in html
    assert "  Ada O'Brien\n  1 Main St\n  Apt 2\n  Portland, OR 97201\n  United States\n" in text  # plain text
    assert "Ada O&#x27;Brien<br>1 Main St<br>Apt 2<br>Portland, OR 97201<br>United States" in html
