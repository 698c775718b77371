"""Orders a guest can find again: every e-mail links to the order through a signed link that
lasts the order's life, and "Find my order" e-mails those links, answering the same whether or
not the order exists, within its limits."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from notifications import emails
from notifications.models import Notification
from orders import checkout, links
from orders.models import Order, OrderEvent
from tests.conftest import queued_tasks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_account_limits")]


def place(email="ada@example.com", sku="MUG-001"):
    order, _ = checkout.place_order(email=email, lines=[{"sku": sku, "quantity": 1}], payment_method="pm_card_visa",
                                    shipping_address={"name": "Ada Lovelace", "line1": "12 Dock Road",
                                                      "city": "Portsmouth", "postal_code": "PO1 3AX", "country": "GB"})
    return order


def csrf_free(response):
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"|name="csrf-token" content="[^"]+"', "",
                  response.content.decode())


# --- the signed link ------------------------------------------------------------------------

def test_the_signed_link_opens_the_order_page_for_the_orders_whole_life(product, client):
    order = place()
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=3650))
    token = links.token(order)
    assert token.startswith(f"{order.reference}:") and order.id.hex not in token and str(order.id) not in token
    response = client.get(links.path(order))
    assert response.status_code == 303 and response["Location"] == f"/orders/{order.pk}/"
    assert links.url(order) == f"http://127.0.0.1:8000/orders/link/{token}/"  # SITE_URL, for workers' e-mails


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # another signature
    lambda token: token.replace("HB-", "HB-1", 1),  # another order, same signature
    lambda token: token.split(":")[0],  # no signature
    lambda token: "HB-99999:" + token.split(":")[1],
])
def test_a_changed_or_made_up_link_opens_nothing(product, client, tamper):
    order = place()
    response = client.get(f"/orders/link/{tamper(links.token(order))}/")
    assert response.status_code == 404 and str(order.pk) not in response.content.decode()


@pytest.mark.parametrize("kind", list(Notification.Kind))
def test_every_order_email_links_to_the_order_through_its_signed_link(product, kind):
    order = place()
    # A return's e-mail describes the return as its event did (notifications/tasks.py on_event).
    about = {"return_id": 1, "amount": 1800, "currency": order.currency, "note": "",
             "lines": [{"sku": "MUG-001", "quantity": 1}]} if kind.startswith("return_") else None
    message = emails._message(order, kind, "1" if about else "", about)
    html = message.alternatives[0][0]
    assert links.url(order) in message.body and f'href="{links.url(order)}"' in html
    assert order.reference in message.body and str(order.id) not in message.body  # people read the reference


# --- Find my order --------------------------------------------------------------------------

def test_the_page_answers_the_same_for_an_order_that_exists_and_one_that_does_not(product, broker):
    order = place()
    asked = Client().post("/orders/find/", {"email": "ada@example.com", "reference": order.reference})
    unknown = Client().post("/orders/find/", {"email": "ada@example.com", "reference": "HB-99999"})
    stranger = Client().post("/orders/find/", {"email": "eve@example.com", "reference": order.reference})
    assert asked.status_code == unknown.status_code == stranger.status_code == 200
    # The same page but for the words the shopper typed in.
    assert csrf_free(unknown).replace("HB-99999", order.reference) == csrf_free(asked)
    assert csrf_free(stranger).replace("eve@example.com", "ada@example.com") == csrf_free(asked)
    # Every request is handed to a worker, which alone looks the order up.
    assert sorted(args for name, args in queued_tasks(broker, "notifications")) == [
        ["ada@example.com"], ["ada@example.com"], ["eve@example.com"]]


def test_a_malformed_request_is_refused_next_to_its_field(product, broker):
    response = Client().post("/orders/find/", {"email": "not an address", "reference": "10427x"})
    page = response.content.decode()
    assert response.status_code == 400 and "Enter a valid email address" in page and "such as HB-10427" in page
    assert queued_tasks(broker, "notifications") == []


def test_requests_are_limited_per_client_and_per_address(product, broker, settings):
    settings.FIND_ORDER_RATE_LIMIT, settings.FIND_ORDER_EMAIL_LIMIT = "3/hour", "2/hour"
    order = place()
    client = Client(REMOTE_ADDR="203.0.113.9")
    answers = [client.post("/orders/find/", {"email": f"a{n}@example.com", "reference": order.reference})
               for n in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) > 0 and "Too many requests" in answers[-1].content.decode()
    # One address asked for from many clients: its own limit (nobody fills someone's inbox).
    by_address = [Client(REMOTE_ADDR=f"198.51.100.{n}").post("/orders/find/", {
        "email": "ada@example.com", "reference": order.reference}).status_code for n in range(3)]
    assert by_address == [200, 200, 429]
    assert len(queued_tasks(broker, "notifications")) == 5  # what was refused was never handed on


def test_the_worker_emails_the_links_of_the_order_and_the_addresses_other_orders(product):
    first, second = place(), place()
    place(email="someone.else@example.com")
    assert emails.send_order_links("ADA@example.com ", second.reference.lower()) is True
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"] and second.reference in message.subject
    assert links.url(second) in message.body and links.url(first) in message.body
    assert message.body.count("/orders/link/") == 2  # not the other address's order
    assert OrderEvent.objects.filter(order=second, message__contains="on request (Find my order)").exists()


def test_the_worker_sends_nothing_for_a_reference_and_address_that_do_not_match(product):
    order = place()
    assert emails.send_order_links("eve@example.com", order.reference) is False
    assert emails.send_order_links("ada@example.com", "HB-99999") is False
    assert mail.outbox == []
