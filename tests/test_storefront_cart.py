"""storefront.cart: {sku: quantity} in the session, checked against the database at every step."""

import pytest

from catalog.models import Product
from inventory.models import Stock
from storefront.cart import Cart, CartError, parse_quantity, stock_label, subtotal
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    ProductFactory(sku="MUG-001", name="Enamel mug", unit_price=1800, stock__available=10)
    ProductFactory(sku="TOTE-1", name="Canvas tote", unit_price=1500, stock__available=3)
    ProductFactory(sku="OLD-1", name="Old thing", active=False, stock__available=5)


def test_adding_keeps_only_sku_and_quantity_in_the_session(shop):
    session = {}
    cart = Cart(session)

    cart.add("MUG-001", 2)
    cart.add("MUG-001", 1)
    cart.add("TOTE-1", 1)

    assert session == {"cart": {"MUG-001": 3, "TOTE-1": 1}}
    assert len(Cart(session)) == 4


@pytest.mark.parametrize("sku,quantity,message", [
    ("NOPE", 1, "no longer available"),
    ("OLD-1", 1, "no longer available"),
    ("TOTE-1", 4, "Only 3 left of Canvas tote"),
    ("MUG-001", 101, "Only 10 left"),
])
def test_a_change_the_database_does_not_allow_is_refused_and_changes_nothing(shop, sku, quantity, message):
    session = {"cart": {"MUG-001": 1}}

    with pytest.raises(CartError, match=message):
        Cart(session).add(sku, quantity)

    assert session == {"cart": {"MUG-001": 1}}


def test_a_sold_out_product_cannot_be_added(shop):
    Stock.objects.filter(product__sku="TOTE-1").update(available=0)

    with pytest.raises(CartError, match="sold out"):
        Cart({}).add("TOTE-1", 1)


def test_products_in_another_currency_are_not_mixed_in_one_cart(shop):
    ProductFactory(sku="EUR-1", currency="eur", stock__available=5)
    cart = Cart({})
    cart.add("MUG-001", 1)

    with pytest.raises(CartError, match="priced in EUR"):
        cart.add("EUR-1", 1)


@pytest.mark.parametrize("raw,ok", [("3", 3), (" 2 ", 2), ("0", None), ("-1", None), ("1.5", None), ("two", None),
                                    ("", None), (None, None), ("²", None), ("٣", None), ("３", None), ("1²", None)])
def test_quantities_are_positive_whole_numbers(raw, ok):
    if ok is None:
        with pytest.raises(CartError):
            parse_quantity(raw)
    else:
        assert parse_quantity(raw) == ok


def test_lines_are_read_from_the_database_now_with_what_went_wrong_since(shop):
    session = {"cart": {"MUG-001": 2, "TOTE-1": 3, "OLD-1": 1, "GONE-1": 1}}
    Stock.objects.filter(product__sku="TOTE-1").update(available=1)  # others bought it meanwhile
    Product.objects.filter(sku="MUG-001").update(unit_price=2000)  # the price changed since it was added

    lines = {line.sku: line for line in Cart(session).lines()}

    assert lines["MUG-001"].problem == "" and lines["MUG-001"].line_total == 4000
    assert lines["TOTE-1"].problem.startswith("Only 1 left")
    assert lines["OLD-1"].problem == lines["GONE-1"].problem == "No longer available"
    assert subtotal(lines.values()) == 4000  # only what can be bought, at today's price


def test_a_tampered_session_is_read_as_its_well_formed_part(shop):
    session = {"cart": {"MUG-001": 2, "TOTE-1": "lots", 7: 1, "X": -3}}

    assert Cart(session).items == {"MUG-001": 2}
    assert Cart({"cart": ["MUG-001"]}).items == {}


def test_update_and_remove(shop):
    session = {}
    cart = Cart(session)
    cart.add("MUG-001", 1)
    cart.add("TOTE-1", 1)

    cart.update("MUG-001", 5)
    with pytest.raises(CartError, match="Only 3 left"):
        cart.update("TOTE-1", 9)
    cart.remove("TOTE-1")

    assert session["cart"] == {"MUG-001": 5}
    with pytest.raises(CartError, match="not in your cart"):
        cart.update("TOTE-1", 1)


@pytest.mark.parametrize("available,label", [(0, "Sold out"), (-1, "Sold out"), (3, "Only 3 left"),
                                             (5, "Only 5 left"), (6, "In stock")])
def test_stock_labels(available, label):
    assert stock_label(available) == label


@pytest.mark.parametrize("quantity", ["²", "٣", "３"])
def test_a_quantity_in_other_digits_is_refused_not_a_500(shop, client, quantity):
    on_product_page = client.post("/cart/add/", {"sku": "MUG-001", "quantity": quantity, "from": "product"})
    client.post("/cart/add/", {"sku": "MUG-001", "quantity": 1})
    in_cart = client.post("/cart/update/", {"sku": "MUG-001", "quantity": quantity})

    assert on_product_page.status_code == 400 and "Enter a whole number" in on_product_page.content.decode()
    assert in_cart.status_code == 400 and "Enter a whole number" in in_cart.content.decode()
    assert client.session["cart"] == {"MUG-001": 1}


def test_the_checkout_s_pricing_answers_when_the_cart_sold_out_meanwhile(shop, client):
    """htmx asks for the shipping methods and totals on every change of the checkout page: if
    everything in the cart sold out since the page was drawn, the answer still renders (the
    summary without a priced line), it is not a 500 that leaves the page half updated."""
    client.post("/cart/add/", {"sku": "TOTE-1", "quantity": 1})
    Stock.objects.filter(product__sku="TOTE-1").update(available=0)

    answer = client.get("/checkout/pricing/", {"country": "GB", "email": "late@example.com"})

    assert answer.status_code == 200
    assert "Subtotal" in answer.content.decode() and "$0.00" in answer.content.decode()
