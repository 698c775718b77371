"""Checkout cannot be hammered, and nobody can hold anyone else up. Every limit counts the
client as harbor.clientip sees it: REMOTE_ADDR, or behind NUM_PROXIES trusted proxies the
NUM_PROXIES-th address from the right of X-Forwarded-For; an IPv6 client per /64."""

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from harbor.clientip import client_id, client_ip, client_key
from inventory.models import Stock
from orders.fulfillment import apply_payment
from orders.models import Order
from payments.charge import Result
from payments.models import Payment
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def product(db):
    return ProductFactory(sku="MUG-001", unit_price=1800, stock__available=500)


def post(body, ip="203.0.113.7", key=None, **headers):
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return APIClient().post("/api/orders/", body, format="json", REMOTE_ADDR=ip, **headers)


def declined(ip, email="tester@example.com", fingerprint=""):
    """An order placed by the client at `ip`, declined as the worker records it."""
    request = RequestFactory().post("/", REMOTE_ADDR=ip)
    order = Order.objects.create(email=email, shipping_address={}, payment_method="pm_x", total=1, currency="usd",
                                 client=client_id(request))
    Payment.objects.create(order=order, amount=1, currency="usd", card_fingerprint=fingerprint)
    apply_payment(order, Result("failed", "Your card was declined.", declined=True))
    return order


# --- Who the client is ---------------------------------------------------------------------

def meta(remote, forwarded=None):
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


@pytest.mark.parametrize("proxies,remote,forwarded,client", [
    (0, "203.0.113.7", "198.51.100.1", "203.0.113.7"),  # no proxy: the header is the client's own words
    (1, "10.0.0.2", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the proxy appended what it saw
    (2, "10.0.0.2", "1.2.3.4, 203.0.113.7, 10.0.0.9", "203.0.113.7"),  # the second proxy from the right
    (1, "10.0.0.2", None, "10.0.0.2"),  # no header: the connection's address
    (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
    (3, "10.0.0.2", "203.0.113.7, 10.0.0.9", "203.0.113.7"),  # fewer hops than proxies: the farthest one written
])
def test_the_client_is_remote_addr_or_the_nth_forwarded_address_from_the_right(proxies, remote, forwarded, client,
                                                                              settings):
    settings.NUM_PROXIES = proxies

    assert client_ip(meta(remote, forwarded)) == client


def test_an_ipv6_client_counts_per_64_and_a_mapped_ipv4_as_itself(settings):
    settings.NUM_PROXIES = 0

    one, other_in_64, elsewhere = (client_key(meta(a)) for a in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9",
                                                                 "2001:db8:1:3::1"))
    assert one == other_in_64 == "2001:db8:1:2::/64" and elsewhere != one
    assert client_key(meta("::ffff:203.0.113.7")) == "203.0.113.7"
    assert client_id(meta("2001:db8:1:2::1")) == client_id(meta("2001:db8:1:2::abcd"))
    assert "2001" not in client_id(meta("2001:db8:1:2::1"))  # a keyed hash, not the address


def test_a_forged_x_forwarded_for_is_not_a_new_client(product, checkout_body, broker, settings):
    settings.CHECKOUT_RATE_LIMIT = "3/minute"  # NUM_PROXIES=0, the default: no proxy in front

    answers = [post(checkout_body(), HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(4)]

    assert answers == [202, 202, 202, 429]


def test_behind_one_proxy_clients_are_told_apart_by_the_address_it_appends(product, checkout_body, broker, settings):
    settings.CHECKOUT_RATE_LIMIT, settings.NUM_PROXIES = "2/minute", 1

    # One client forging the left part of the header, through our proxy at 10.0.0.2.
    forged = [post(checkout_body(), ip="10.0.0.2", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 203.0.113.7").status_code
              for i in range(3)]
    other = post(checkout_body(), ip="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.8")

    assert forged == [202, 202, 429]
    assert other.status_code == 202


# --- Orders per client -----------------------------------------------------------------------

def test_one_client_placing_orders_too_fast_gets_429_with_retry_after(product, checkout_body, broker, settings):
    settings.CHECKOUT_RATE_LIMIT = "3/minute"

    answers = [post(checkout_body()).status_code for _ in range(3)]
    limited = post(checkout_body())

    assert answers == [202, 202, 202]
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert limited.json()["code"] == "throttled" and "available in" in limited.json()["detail"]
    assert Order.objects.count() == 3
    assert post(checkout_body(), ip="198.51.100.9").status_code == 202  # another client is not held up


def test_an_empty_limit_turns_the_per_ip_limit_off(product, checkout_body, broker, settings):
    settings.CHECKOUT_RATE_LIMIT = ""

    assert {post(checkout_body()).status_code for _ in range(8)} == {202}


# --- Card testing: failed payments per client, never per e-mail --------------------------------

def test_a_client_with_many_failed_payments_is_held_off(product, checkout_body, broker, settings):
    settings.CHECKOUT_FAILED_PAYMENTS_LIMIT = "2/hour"
    for _ in range(2):
        declined("203.0.113.7", email=f"rotating-{_}@example.com")  # a new address each time: no matter

    refused = post(checkout_body(email="yet-another@example.com"))

    assert refused.status_code == 429 and int(refused["Retry-After"]) > 3500
    assert post(checkout_body(email="yet-another@example.com"), ip="198.51.100.9").status_code == 202


def test_failures_from_one_client_never_block_the_same_e_mail_from_another(product, checkout_body, broker, settings):
    settings.CHECKOUT_FAILED_PAYMENTS_LIMIT = "2/hour"
    for _ in range(5):  # a stranger places orders with the shopper's address and a bad card
        declined("198.51.100.66", email="shopper@example.com")

    assert post(checkout_body(email="shopper@example.com"), ip="203.0.113.7").status_code == 202


def test_a_decline_is_counted_once_however_often_it_is_reported(product, settings):
    from harbor import ratelimit
    from payments import card_testing

    settings.CHECKOUT_FAILED_PAYMENTS_LIMIT = "5/hour"
    order = declined("203.0.113.7")
    apply_payment(order, Result("failed", "Your card was declined.", declined=True))  # the webhook, later

    assert len(ratelimit.times(card_testing.CLIENT + order.client, 3600)) == 1


def test_the_storefront_checkout_is_limited_the_same_way(product, broker, settings):
    settings.CHECKOUT_RATE_LIMIT = "1/minute"
    shopper = Client(REMOTE_ADDR="203.0.113.8")
    shopper.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})
    form = {"email": "a@example.com", "name": "A", "line1": "1 Road", "city": "C", "postal_code": "P",
            "country": "GB", "payment_method": "pm_card_visa"}

    first = shopper.post("/checkout/", {**form, "checkout_token": "a" * 32})
    shopper.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})
    second = shopper.post("/checkout/", {**form, "checkout_token": "b" * 32})

    assert first.status_code == 303
    assert second.status_code == 429 and second["Retry-After"] and "Too many attempts" in second.content.decode()
    assert Order.objects.count() == 1


def test_setup_intents_are_limited_per_client(product, broker, settings):
    settings.CHECKOUT_CARD_SETUP_LIMIT = "2/hour"
    shopper = Client(REMOTE_ADDR="203.0.113.9")
    shopper.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})

    answers = [shopper.post("/checkout/payment/", HTTP_X_FORWARDED_FOR=f"1.1.1.{i}").status_code for i in range(3)]

    assert answers == [200, 200, 429]


# --- No stock hostage: orders awaiting payment per client ---------------------------------------

def test_a_client_may_have_only_so_many_orders_awaiting_payment(product, checkout_body, broker, settings):
    settings.CHECKOUT_UNPAID_LIMIT = 3

    answers = [post(checkout_body(), key=f"k{i}").status_code for i in range(3)]
    refused = post(checkout_body(), key="k3")

    assert answers == [202, 202, 202]
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "too_many_unpaid_orders"
    assert Order.objects.count() == 3 and Stock.objects.get(product=product).available == 500 - 6
    assert post(checkout_body(), key="k0").status_code == 200  # a retry of an accepted order is not refused
    assert post(checkout_body(), ip="198.51.100.9").status_code == 202  # another client is not held up

    Order.objects.filter(pk=Order.objects.order_by("created_at").first().pk).update(status="payment_failed")
    assert post(checkout_body(), key="k4").status_code == 202  # one ended: room for one more


def test_concurrent_checkouts_of_one_client_count_one_after_the_other(product, checkout_body, broker, settings):
    from tests.concurrency import run_concurrently

    settings.CHECKOUT_UNPAID_LIMIT = 3

    answers = run_concurrently(lambda i: post(checkout_body()).status_code, 8)

    assert sorted(answers) == [202] * 3 + [429] * 5
    assert Order.objects.count() == 3


def test_the_storefront_refuses_an_order_past_the_unpaid_limit(product, broker, settings):
    settings.CHECKOUT_UNPAID_LIMIT = 1
    shopper = Client(REMOTE_ADDR="203.0.113.10")
    form = {"email": "a@example.com", "name": "A", "line1": "1 Road", "city": "C", "postal_code": "P",
            "country": "GB", "payment_method": "pm_card_visa"}
    pages = []
    for token in ("a", "b"):
        shopper.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})
        pages.append(shopper.post("/checkout/", {**form, "checkout_token": token * 32}))

    assert pages[0].status_code == 303
    assert pages[1].status_code == 429 and "orders waiting for payment" in pages[1].content.decode()
    assert Order.objects.count() == 1


def test_the_429_is_documented_in_the_schema(api, db):
    import yaml

    schema = yaml.safe_load(api.get("/api/schema/").content)
    assert "429" in schema["paths"]["/api/orders/"]["post"]["responses"]


def test_with_the_cache_away_orders_are_still_taken(product, checkout_body, broker, settings, monkeypatch):
    settings.CHECKOUT_RATE_LIMIT = "3/minute"
    settings.CHECKOUT_FAILED_PAYMENTS_LIMIT = "3/hour"

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "get", down)  # DRF's rate throttles
    monkeypatch.setattr("harbor.ratelimit._redis", down)  # the failed-payment counts

    assert post(checkout_body()).status_code == 202
