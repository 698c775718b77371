"""Shopper accounts (django-allauth, accounts/): sign-up with e-mail verification, guest orders
attached once the address is verified, My orders, a checkout pre-filled with the saved address,
logins limited against guessing with the session rotated, and deleting the account (the
orders stay, detached). The flows in a browser: tests/browser/test_accounts.py."""

import re

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client

from accounts.models import Address
from orders import checkout
from orders.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_account_limits")]

PASSWORD = "a-long-harbour-passphrase-2718"


def place(email, customer=None, line1="12 Dock Road"):
    order, _ = checkout.place_order(email=email, lines=[{"sku": "MUG-001", "quantity": 1}], payment_method="pm_card_visa",
                                    shipping_address={"name": "Ada Lovelace", "line1": line1, "city": "Portsmouth",
                                                      "postal_code": "PO1 3AX", "country": "GB"}, customer=customer)
    return order


def link_in(message):
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def sign_up(client, email):
    response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def verify(client, message):
    path = link_in(message)
    assert client.get(path).status_code == 200  # the page asks: a link opened by a mail scanner verifies nothing
    return client.post(path)


@pytest.fixture
def verified_shopper(product):
    client = Client()
    sign_up(client, "ada@example.com")
    verify(client, mail.outbox[-1])
    mail.outbox.clear()
    return client, User.objects.get(email="ada@example.com")


def test_sign_up_verifies_the_address_before_the_first_login_and_then_attaches_its_guest_orders(product):
    earlier = place("Ada@Example.com")  # as a guest, in another case
    other = place("eve@example.com")
    client = Client()
    sign_up(client, "ada@example.com")
    assert "_auth_user_id" not in client.session  # not logged in before verifying
    (message,) = mail.outbox
    assert message.to == ["ada@example.com"] and "/accounts/confirm-email/" in message.body
    assert Order.objects.get(pk=earlier.pk).customer is None  # not before the address is verified
    assert client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD}).status_code == 302
    assert "_auth_user_id" not in client.session  # the login asks for the verification first

    response = verify(client, message)

    user = User.objects.get(email="ada@example.com")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    assert Order.objects.get(pk=earlier.pk).customer == user
    assert Order.objects.get(pk=other.pk).customer is None


def test_my_orders_lists_the_accounts_orders_with_status_and_page(verified_shopper):
    client, user = verified_shopper
    mine, theirs = place("ada@example.com", customer=user), place("eve@example.com")
    page = client.get("/accounts/").content.decode()
    assert f'href="/orders/{mine.pk}/"' in page and mine.reference in page and 'data-status="pending"' in page
    assert theirs.reference not in page
    assert Client().get("/accounts/")["Location"].startswith("/accounts/login/")


def test_a_signed_in_checkout_is_prefilled_then_saves_the_address_and_the_customer(verified_shopper):
    client, user = verified_shopper
    Address.objects.create(user=user, name="Ada Lovelace", line1="1 Old Road", city="Bath", postal_code="BA1 1AA",
                           country="GB", last_used_at="2026-01-01T00:00:00Z")
    client.post("/cart/add/", {"sku": "MUG-001", "quantity": "1"})
    page = client.get("/checkout/")
    form = page.context["form"]
    assert form.initial["email"] == "ada@example.com" and form.initial["line1"] == "1 Old Road"
    token = form.initial["checkout_token"]
    posted = client.post("/checkout/", {"email": "ada@example.com", "name": "Ada Lovelace", "line1": "9 New Quay",
                                        "city": "Bath", "postal_code": "BA1 2BB", "country": "GB",
                                        "payment_method": "pm_card_visa", "checkout_token": token})
    assert posted.status_code == 303
    order = Order.objects.get()
    assert order.customer == user
    assert [a.line1 for a in Address.objects.filter(user=user)] == ["9 New Quay", "1 Old Road"]  # last used first
    client.post("/cart/add/", {"sku": "MUG-001", "quantity": "1"})
    assert client.get("/checkout/").context["form"].initial["line1"] == "9 New Quay"


def test_logging_in_rotates_the_session_and_keeps_the_cart(verified_shopper):
    _, user = verified_shopper
    client = Client()
    client.post("/cart/add/", {"sku": "MUG-001", "quantity": "2"})
    before = client.session.session_key
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    assert client.session.session_key != before  # a session fixed before the login is worth nothing after it
    assert client.session["cart"] == {"MUG-001": 2}


def test_guessing_a_shoppers_password_locks_that_address_out_for_that_client_only(verified_shopper, settings):
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    answers = [attacker.post("/accounts/login/", {"login": "Ada@example.com", "password": f"guess-{n}"}).status_code
               for n in range(settings.AXES_FAILURE_LIMIT)]
    assert answers == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    locked = attacker.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in attacker.session
    assert "Harbor Supply Co." in locked.content.decode()  # the shop's page, not the admin's
    elsewhere = Client(REMOTE_ADDR="198.51.100.5")
    assert elsewhere.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD}).status_code == 302


def test_changing_the_email_address_verifies_the_new_one_and_attaches_its_orders(verified_shopper):
    client, user = verified_shopper
    guest = place("ada.new@example.com")
    assert client.post("/accounts/email/", {"email": "ada.new@example.com", "action_add": ""}).status_code == 302
    (message,) = [m for m in mail.outbox if m.to == ["ada.new@example.com"]]
    assert User.objects.get(pk=user.pk).email == "ada@example.com"  # until the new one is verified
    verify(client, message)
    assert User.objects.get(pk=user.pk).email == "ada.new@example.com"
    assert Order.objects.get(pk=guest.pk).customer_id == user.pk


def test_deleting_the_account_keeps_its_orders_detached_and_logs_out(verified_shopper):
    client, user = verified_shopper
    order = place("ada@example.com", customer=user)
    Address.objects.create(user=user, name="Ada", line1="1 Old Road", city="Bath", postal_code="BA1 1AA",
                           country="GB", last_used_at="2026-01-01T00:00:00Z")
    wrong = client.post("/accounts/delete/", {"password": "not it", "confirm": "on"})
    assert wrong.status_code == 400 and User.objects.filter(pk=user.pk).exists()
    response = client.post("/accounts/delete/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302 and "_auth_user_id" not in client.session
    assert not User.objects.filter(pk=user.pk).exists() and not Address.objects.exists()
    kept = Order.objects.get(pk=order.pk)
    assert kept.customer is None and kept.email == "ada@example.com" and kept.total == order.total
