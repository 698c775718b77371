"""Staff open an order's shipping label from the order admin, without the shopper's link."""

import re

import pytest
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.test import Client

from orders.models import Order, Shipment

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a label\n"


@pytest.fixture
def shipped_order():
    order = Order.objects.create(email="shopper@example.com", payment_method="pm_card_visa", total=3600,
                                 currency="usd", status="fulfilled", shipping_address={"name": "Ada"})
    shipment = Shipment.objects.create(order=order, tracking_number="HB-LABEL-1")
    shipment.label.save(f"{order.pk}.pdf", ContentFile(PDF))
    return order


def label_link(client, order):
    page = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert page.status_code == 200
    links = re.findall(r'href="([^"]+)"[^>]*>Open label', page.content.decode())
    assert len(links) == 1, "the Shipments section links the label once"
    return links[0]


@pytest.mark.parametrize("who", ["superuser", "ops"])
def test_the_order_admin_opens_the_label(who, shipped_order, admin_client, ops_login):
    client = admin_client if who == "superuser" else ops_login("ops-lena")
    link = label_link(client, shipped_order)
    assert not link.startswith("/media/") and f"/api/orders/{shipped_order.pk}/" not in link

    response = client.get(link)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == PDF


def test_the_label_is_for_staff_who_may_view_orders(shipped_order, admin_client):
    link = label_link(admin_client, shipped_order)

    anonymous = Client().get(link)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]

    staff = User.objects.create_user("no-perms", "np@example.com", "not-a-secret-3141", is_staff=True)
    client = Client()
    client.force_login(staff)
    assert client.get(link).status_code == 403


def test_an_order_without_a_label_says_so(admin_client):
    order = Order.objects.create(email="shopper@example.com", payment_method="pm_card_visa", total=3600,
                                 currency="usd", status="paid", shipping_address={"name": "Ada"})
    Shipment.objects.create(order=order, tracking_number="HB-LABEL-2")

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    assert "Open label" not in page and "not yet" in page
