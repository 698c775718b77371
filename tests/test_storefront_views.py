"""The storefront's pages through Django's test client: what a shopper sees and what each
form may change (the browser tests drive the same pages in Chromium)."""

import re
import uuid

import pytest
from django.test import Client

from catalog.models import Product
from inventory.models import Stock
from orders.models import IdempotencyKey, Order, OrderEvent
from payments.models import Payment
from tests.conftest import queued_tasks
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)  # checkout's on_commit must fire
HTML = {"HTTP_ACCEPT": "text/html"}
ADDRESS = {"email": "ada@example.com", "name": "Ada Lovelace", "line1": "12 Dock Road", "line2": "",
           "city": "Portsmouth", "postal_code": "PO1 3AX", "country": "GB"}


@pytest.fixture
def shop():
    ProductFactory(sku="MUG-001", name="Enamel mug", unit_price=1800, stock__available=50)
    ProductFactory(sku="TOTE-1", name="Canvas tote", unit_price=1500, stock__available=3)
    ProductFactory(sku="CAP-1", name="Deck cap", unit_price=2200, stock__available=0)
    ProductFactory(sku="OLD-1", name="Old thing", active=False)


@pytest.fixture
def client():
    return Client()


def add(client, sku, quantity=1, **extra):
    return client.post("/cart/add/", {"sku": sku, "quantity": quantity, **extra})


def checkout_token(client):
    page = client.get("/checkout/").content.decode()
    return re.search(r'name="checkout_token" value="([0-9a-f]{32})"', page).group(1)


def place(client, token, payment_method="pm_card_visa", **fields):
    return client.post("/checkout/", {**ADDRESS, "payment_method": payment_method, "checkout_token": token, **fields})


# --- Catalog and product pages ---------------------------------------------------------------

def test_the_catalog_shows_each_active_product_with_price_stock_and_an_add_to_cart_button(client, shop):
    page = client.get("/").content.decode()

    for name, price, stock in [("Enamel mug", "$18.00", "In stock"), ("Canvas tote", "$15.00", "Only 3 left"),
                               ("Deck cap", "$22.00", "Sold out")]:
        card = re.search(rf'<li class="card">((?:(?!</li>).)*{name}(?:(?!</li>).)*)</li>', page, re.S).group(1)
        assert price in card and stock in card and ">Add to cart</button>" in card
    assert 'href="/products/MUG-001/"' in page
    assert "Old thing" not in page
    assert page.count(">Add to cart</button>") == 3


def test_every_page_has_a_cart_link_with_the_item_count(client, shop):
    add(client, "MUG-001", 2)
    add(client, "TOTE-1", 1)

    for path in ["/", "/products/MUG-001/", "/cart/", "/checkout/"]:
        assert re.search(r'<a class="cart-link" href="/cart/">Cart \(3\)</a>', client.get(path).content.decode()), path


@pytest.mark.parametrize("path", ["/products/NOPE/", "/products/OLD-1/", f"/orders/{uuid.uuid4()}/", "/orders/42/",
                                  "/nowhere/"])
def test_unknown_products_and_orders_are_a_404_page(client, shop, path):
    response = client.get(path, **HTML)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "We could not find that page" in response.content.decode()


def test_the_product_page_shows_the_description_and_a_quantity_field(client, shop):
    Product.objects.filter(sku="MUG-001").update(description="Holds a pint of tea.")

    page = client.get("/products/MUG-001/").content.decode()

    assert "Holds a pint of tea." in page and "$18.00" in page
    assert '<label for="quantity">Quantity</label>' in page and 'id="quantity"' in page


# --- Cart ---------------------------------------------------------------------------------------

def test_adding_beyond_stock_shows_why_next_to_the_quantity_and_keeps_the_cart(client, shop):
    add(client, "MUG-001", 1)

    response = add(client, "TOTE-1", 4, **{"from": "product"})

    assert response.status_code == 400
    page = response.content.decode()
    assert 'aria-describedby="quantity-error"' in page
    assert re.search(r'<p id="quantity-error" class="field-error">Only 3 left of Canvas tote.</p>', page)
    assert client.session["cart"] == {"MUG-001": 1}


@pytest.mark.parametrize("quantity,message", [("0", "at least 1"), ("-2", "at least 1"), ("1.5", "whole number"),
                                              ("lots", "whole number"), ("51", "Only 50 left")])
def test_a_bad_quantity_in_the_cart_is_explained_next_to_its_line_and_the_rest_is_kept(client, shop, quantity,
                                                                                      message):
    add(client, "MUG-001", 2)
    add(client, "TOTE-1", 1)

    response = client.post("/cart/update/", {"sku": "MUG-001", "quantity": quantity})

    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(rf'<p id="qty-1-error" class="field-error">[^<]*{re.escape(message)}', page)
    assert 'aria-describedby="qty-1-error"' in page
    assert client.session["cart"] == {"MUG-001": 2, "TOTE-1": 1}


def test_the_subtotal_comes_from_database_prices_not_from_the_form(client, shop):
    add(client, "MUG-001", 2, unit_price=1, price="0.01")
    Product.objects.filter(sku="MUG-001").update(unit_price=2000)  # a price change since

    page = client.get("/cart/").content.decode()

    assert re.search(r'id="subtotal">\$40.00<', page)
    assert client.session["cart"] == {"MUG-001": 2}


def test_a_line_no_longer_available_is_shown_as_such_and_blocks_checkout(client, shop):
    add(client, "TOTE-1", 1)
    add(client, "MUG-001", 1)
    Product.objects.filter(sku="TOTE-1").update(active=False)

    page = client.get("/cart/").content.decode()
    assert "No longer available" in page and 'aria-disabled="true">Checkout<' in page

    response = client.get("/checkout/")
    assert response.status_code == 303 and response["Location"] == "/cart/"


def test_remove(client, shop):
    add(client, "MUG-001", 1)
    add(client, "TOTE-1", 1)

    client.post("/cart/remove/", {"sku": "TOTE-1"})

    assert client.session["cart"] == {"MUG-001": 1}


def test_every_form_is_csrf_protected(shop):
    strict = Client(enforce_csrf_checks=True)
    order = Order.objects.create(email="a@b.c", shipping_address={}, payment_method="pm_x", total=1, currency="usd")

    for path in ["/cart/add/", "/cart/update/", "/cart/remove/", "/checkout/", "/checkout/payment/",
                 f"/orders/{order.pk}/authenticated/", f"/orders/{order.pk}/back-to-cart/"]:
        assert strict.post(path, {"sku": "MUG-001", "quantity": 1}).status_code == 403, path
    assert "cart" not in strict.session


# --- Checkout -------------------------------------------------------------------------------------

def test_checkout_places_the_order_through_the_checkout_service_and_redirects_with_303(client, shop, broker):
    add(client, "MUG-001", 2)
    add(client, "TOTE-1", 1)
    token = checkout_token(client)

    response = place(client, token, unit_price="1", total="1", lines="MUG-001:99")

    order = Order.objects.get()
    assert response.status_code == 303 and response["Location"] == f"/orders/{order.pk}/"
    assert order.total == 2 * 1800 + 1500 and order.email == "ada@example.com"  # tampered fields ignored
    assert sorted(order.lines.values_list("sku", "quantity", "unit_price")) == [("MUG-001", 2, 1800),
                                                                                 ("TOTE-1", 1, 1500)]
    assert order.shipping_address["city"] == "Portsmouth" and order.payment_method == "pm_card_visa"
    assert IdempotencyKey.objects.get().key == f"storefront-{token}"
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(order.pk)])]
    assert client.session["cart"] == {}


def test_checkout_takes_an_optional_state_province_or_region(client, shop, broker):
    add(client, "MUG-001", 1)
    page = client.get("/checkout/").content.decode()
    assert re.search(r'<label for="id_region">State / Province / Region</label> <span class="hint" '
                     r'id="id_region-hint">Optional</span>', page)  # marked up like Address line 2

    place(client, checkout_token(client), city="Portland", region="OR", postal_code="97201", country="US")

    order = Order.objects.get()
    assert order.shipping_address["region"] == "OR"
    assert "Portland, OR 97201" in client.get(f"/orders/{order.pk}/").content.decode()


def test_posting_the_same_checkout_page_again_finds_the_same_order(client, shop, broker):
    add(client, "MUG-001", 1)
    token = checkout_token(client)

    first = place(client, token)
    again = place(client, token)  # a reload of the POST
    other_card = place(client, token, payment_method="pm_card_mastercard")  # back, and submitted again

    assert first["Location"] == again["Location"] == other_card["Location"]
    assert Order.objects.count() == 1 and Stock.objects.get(product__sku="MUG-001").available == 49


def test_a_cart_that_ran_out_meanwhile_goes_back_to_the_cart_with_nothing_reserved(client, shop, broker):
    add(client, "TOTE-1", 2)
    token = checkout_token(client)
    Stock.objects.filter(product__sku="TOTE-1").update(available=1)  # another shopper was faster

    response = place(client, token)

    assert response.status_code == 303 and response["Location"] == "/cart/"
    assert not Order.objects.exists() and Stock.objects.get(product__sku="TOTE-1").available == 1
    assert "Only 1 left" in client.get("/cart/").content.decode()


def test_stock_taken_between_the_cart_check_and_the_reservation_is_a_409_path_too(client, shop, broker, monkeypatch):
    from storefront.cart import Cart

    add(client, "TOTE-1", 2)
    token = checkout_token(client)
    real_lines = Cart.lines

    def lines_then_sold_out(self):  # the race: the cart looked fine, then the units went
        result = real_lines(self)
        Stock.objects.filter(product__sku="TOTE-1").update(available=1)
        return result

    monkeypatch.setattr(Cart, "lines", lines_then_sold_out)
    response = place(client, token)

    assert response.status_code == 303 and response["Location"] == "/cart/"
    assert not Order.objects.exists() and Stock.objects.get(product__sku="TOTE-1").available == 1


def test_bad_checkout_input_is_shown_next_to_its_field_and_places_nothing(client, shop, broker):
    add(client, "MUG-001", 1)
    token = checkout_token(client)

    response = place(client, token, email="not-an-email", postal_code="", payment_method="")

    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_email">', page) and 'id="id_email-error"' in page
    assert 'id="id_postal_code-error"' in page
    assert re.search(r'id="card-errors" class="field-error" role="alert">Enter your card details.', page)
    assert not Order.objects.exists() and Stock.objects.get(product__sku="MUG-001").available == 50


def test_an_address_the_label_cannot_print_is_explained_next_to_its_field_and_places_nothing(client, shop, broker):
    add(client, "MUG-001", 1)

    response = place(client, checkout_token(client), line1="12 Dock Road 🙂")

    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_line1">', page)
    assert re.search(r'id="id_line1-error" class="field-error">\u201c🙂\u201d \(U\+1F642\) cannot be printed on a '
                     r"shipping label: use the letters", page)
    assert not Order.objects.exists() and Stock.objects.get(product__sku="MUG-001").available == 50


def test_checkout_page_has_the_contract_labels_card_element_and_stripe_js(client, shop, settings):
    add(client, "MUG-001", 1)

    page = client.get("/checkout/").content.decode()

    for label in ["Email", "Full name", "Address line 1", "Address line 2", "City", "State / Province / Region",
                  "Postal code", "Country"]:
        assert re.search(rf'<label for="id_\w+">{label}</label>', page), label
    assert '<div id="card-element"' in page and ">Place order</button>" in page
    assert f'<script src="{settings.STRIPE_JS_URL}"></script>' in page
    assert settings.STRIPE_JS_URL.endswith("/js.stripe.com/v3/")


def test_payment_setup_returns_a_setup_intent_client_secret_from_stripe(client, shop):
    add(client, "MUG-001", 1)

    response = client.post("/checkout/payment/")

    assert response.status_code == 200 and response.json()["client_secret"].startswith("seti_")
    assert client.post("/checkout/payment/").status_code == 200
    assert Client().post("/checkout/payment/").status_code == 400  # an empty cart gets none


# --- Order status page -----------------------------------------------------------------------------

def make_order(status, payment=None):
    product = Product.objects.get(sku="MUG-001")
    order = Order.objects.create(email="ada@example.com", shipping_address={**ADDRESS, "country": "GB"},
                                 payment_method="pm_card_visa", total=1800, currency="usd", status=status)
    order.lines.create(product=product, sku="MUG-001", quantity=1, unit_price=1800)
    if payment:
        Payment.objects.create(order=order, amount=1800, currency="usd", **payment)
    return order


def test_the_status_page_polls_until_the_order_is_final(client, shop):
    pending = make_order("pending")
    fulfilled = make_order("fulfilled")

    live = client.get(f"/orders/{pending.pk}/").content.decode()
    done = client.get(f"/orders/{fulfilled.pk}/").content.decode()

    assert re.search(r'data-status="pending"', live) and f'hx-get="/orders/{pending.pk}/live/"' in live
    assert "htmx-2.min.js" in live
    assert 'data-status="fulfilled"' in done and "hx-get" not in done
    assert len(re.findall(r"data-status=", live)) == 1
    partial = client.get(f"/orders/{pending.pk}/live/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and partial.content.decode().lstrip().startswith('<section id="order-live"')
    assert client.get(f"/orders/{pending.pk}/live/")["Location"] == f"/orders/{pending.pk}/"


def test_the_client_secret_is_shown_only_while_authentication_is_due_and_only_for_that_order(client, shop, api):
    waiting = make_order("requires_action", {"status": "requires_action", "payment_intent_id": "pi_3ds",
                                             "client_secret": "pi_3ds_secret_abc"})
    paid = make_order("paid", {"status": "succeeded", "payment_intent_id": "pi_ok", "client_secret": "pi_ok_secret_zzz"})

    page = client.get(f"/orders/{waiting.pk}/").content.decode()
    assert ">Authenticate payment</button>" in page and "pi_3ds_secret_abc" not in page
    assert "pi_3ds_secret_abc" in client.get(f"/orders/{waiting.pk}/authenticate/").content.decode()
    assert api.get(f"/api/orders/{waiting.pk}/").json()["payment"]["client_secret"] == "pi_3ds_secret_abc"
    assert "client_secret" not in api.get(f"/api/orders/{paid.pk}/").json()["payment"]
    assert client.get(f"/orders/{paid.pk}/authenticate/")["Location"] == f"/orders/{paid.pk}/"
    assert "pi_3ds_secret" not in client.get("/").content.decode()


def test_returning_from_authentication_asks_the_worker_to_look_at_stripe_again(client, shop, broker):
    waiting = make_order("requires_action", {"status": "requires_action", "payment_intent_id": "pi_3ds"})
    failed = make_order("payment_failed")

    response = client.post(f"/orders/{waiting.pk}/authenticated/")
    client.post(f"/orders/{failed.pk}/authenticated/")

    assert response.status_code == 303 and response["Location"] == f"/orders/{waiting.pk}/"
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(waiting.pk)])]
    assert OrderEvent.objects.filter(order=waiting, actor="storefront").exists()


def test_after_a_failed_payment_the_items_go_back_into_the_cart(client, shop):
    failed = make_order("payment_failed", {"status": "failed", "last_error": "Your card was declined."})

    page = client.get(f"/orders/{failed.pk}/").content.decode()
    assert "Your card was declined." in page and "Back to cart to try another card" in page

    response = client.post(f"/orders/{failed.pk}/back-to-cart/")

    assert response["Location"] == "/cart/" and client.session["cart"] == {"MUG-001": 1}
