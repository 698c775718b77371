"""The label renderer: a 4x6 in PDF with the tracking number."""

import re

import pytest

from orders import labels
from orders.models import Order, OrderLine, Shipment
from tests.factories import ProductFactory


@pytest.fixture
def shipment(db):
    product = ProductFactory(sku="MUG-001")
    order = Order.objects.create(email="a@example.com", payment_method="pm_card_visa", total=1800, currency="usd",
                                 shipping_address={"name": "Ada", "line1": "1 Road", "line2": "", "city": "Town",
                                                   "postal_code": "PO1", "country": "GB"})
    OrderLine.objects.create(order=order, product=product, sku="MUG-001", quantity=1, unit_price=1800)
    return Shipment.objects.create(order=order, tracking_number="HB12345678901234")


def test_label_is_a_one_page_4_by_6_inch_pdf_titled_with_the_tracking_number(shipment):
    pdf = labels.render(shipment.order, shipment)

    assert pdf.startswith(b"%PDF")
    assert re.findall(rb"/MediaBox \[\s*0 0 288 432\s*\]", pdf)  # 4x6 in at 72 pt/in
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") == 1
    assert b"HB12345678901234" in pdf
