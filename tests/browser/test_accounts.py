"""A shopper's account in a real browser: signing up and verifying the address from the
e-mail (the SMTP sink), the guest order placed before showing up in My orders, logging in and
out, resetting the password, changing the e-mail address, a checkout that starts with the
saved address, and deleting the account (its orders kept, detached)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from playwright.sync_api import expect

from accounts.models import Address
from orders import checkout
from orders.models import Order
from tests.browser.test_shopper import CARD_OK, add_from_catalog, fill_checkout, order_id_of, wait_for_status
from tests.conftest import eventually
from tests.factories import ProductFactory

PASSWORD = "a-long-harbour-passphrase-2718"
NEW_PASSWORD = "another-harbour-passphrase-3141"


@pytest.fixture
def products(shop, fresh_account_limits):
    return {"mug": ProductFactory(sku="MUG-001", name="Harbor enamel mug", unit_price=1800, stock__available=20)}


def mail_to(smtp_sink, address, subject):
    found = eventually(lambda: smtp_sink.to(address, subject), timeout=20)
    assert found, f"no e-mail to {address} about {subject!r}: {[m['Subject'] for m in smtp_sink.messages]}"
    return found[-1]


def link_in(message, path):
    text = message.get_body(("plain",)).get_content()
    return re.search(rf"https?://\S+{re.escape(path)}\S*", text).group(0)


def shopper(email, password=PASSWORD):
    user = User.objects.create_user(email.split("@")[0], email, password)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return user


def log_in(page, email, password=PASSWORD):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()


def test_a_guest_signs_up_verifies_the_address_and_finds_the_earlier_order_in_my_orders(page, products, smtp_sink,
                                                                                      screenshot):
    add_from_catalog(page, "Harbor enamel mug")
    page.goto("/checkout/")
    fill_checkout(page, CARD_OK, email="grace@example.com")
    page.get_by_role("button", name="Place order").click()
    order_id = order_id_of(page)
    wait_for_status(page, "fulfilled")
    order = Order.objects.get(pk=order_id)
    assert order.customer is None

    page.get_by_role("link", name="Log in").click()
    page.get_by_role("link", name="sign up").click()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify Your Email Address")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()  # not logged in before verifying
    assert Order.objects.get(pk=order_id).customer is None

    page.goto(link_in(mail_to(smtp_sink, "grace@example.com", "Confirm"), "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()

    expect(page).to_have_url(re.compile("/accounts/$"))
    row = page.locator("tr", has_text=order.reference)
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "fulfilled")
    expect(row).to_contain_text("$")
    screenshot("my-orders")
    assert Order.objects.get(pk=order_id).customer == User.objects.get(email="grace@example.com")
    row.get_by_role("link", name=order.reference).click()
    expect(page).to_have_url(re.compile(f"/orders/{order_id}/$"))


def test_log_in_log_out_and_reset_a_forgotten_password(page, products, smtp_sink):
    shopper("ada@example.com")
    log_in(page, "ada@example.com")
    expect(page.get_by_role("heading", level=1)).to_have_text("My orders")
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("My orders")
    page.get_by_role("button", name="Log out").click()  # a POST: logged out at once
    expect(page.get_by_role("link", name="Log in")).to_be_visible()

    log_in(page, "ada@example.com", password="not my password")
    expect(page.locator(".form-errors")).to_contain_text("not correct")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_role("button", name="Reset My Password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password Reset")
    page.goto(link_in(mail_to(smtp_sink, "ada@example.com", "Password Reset"), "/accounts/password/reset/key/"))
    page.get_by_label("New Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New Password (again)").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change Password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change Password")
    log_in(page, "ada@example.com", password=NEW_PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("My orders")


def test_a_signed_in_checkout_starts_with_the_saved_address(page, products, screenshot):
    user = shopper("lin@example.com")
    log_in(page, "lin@example.com")
    add_from_catalog(page, "Harbor enamel mug")
    page.goto("/checkout/")
    expect(page.get_by_label("Email")).to_have_value("lin@example.com")
    fill_checkout(page, CARD_OK, email="lin@example.com", line1="7 Ferry Lane")
    page.get_by_role("button", name="Place order").click()
    order_id = order_id_of(page)
    assert Order.objects.get(pk=order_id).customer == user
    assert Address.objects.get(user=user).line1 == "7 Ferry Lane"

    add_from_catalog(page, "Harbor enamel mug")
    page.goto("/checkout/")
    expect(page.get_by_label("Full name")).to_have_value("Ada Lovelace")
    expect(page.get_by_label("Address line 1")).to_have_value("7 Ferry Lane")
    expect(page.get_by_label("Postal code")).to_have_value("PO1 3AX")
    expect(page.get_by_label("Country")).to_have_value("GB")
    expect(page.locator(".shipping-methods .method").first).to_be_visible()  # priced for the saved country
    screenshot("checkout-prefilled")


def test_change_the_email_address_then_delete_the_account_keeping_its_orders(page, products, smtp_sink, screenshot):
    user = shopper("max@example.com")
    order, _ = checkout.place_order(email="max@example.com", lines=[{"sku": "MUG-001", "quantity": 1}],
                                    payment_method="pm_card_visa", customer=user, shipping_address={
                                        "name": "Max", "line1": "1 Quay", "city": "Poole", "postal_code": "BH15 1AA",
                                        "country": "GB"})
    log_in(page, "max@example.com")
    page.get_by_role("link", name="E-mail address").click()
    page.get_by_label("Change to").fill("max.new@example.com")
    page.get_by_role("button", name="Change Email").click()
    page.goto(link_in(mail_to(smtp_sink, "max.new@example.com", "Confirm"), "/accounts/confirm-email/"))
    page.get_by_role("button", name="Confirm").click()
    assert eventually(lambda: User.objects.get(pk=user.pk).email == "max.new@example.com")

    page.goto("/accounts/delete/")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_label("Yes, delete my account").check()
    screenshot("delete-account")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator(".messages")).to_contain_text("Your account was deleted")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    assert not User.objects.filter(pk=user.pk).exists()
    kept = Order.objects.get(pk=order.pk)
    assert kept.customer is None and kept.email == "max@example.com"
    log_in(page, "max.new@example.com")
    expect(page.locator(".form-errors")).to_be_visible()  # the login is gone
