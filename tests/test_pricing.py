"""Shipping methods, tax and discount codes as checkout applies them, through the API, against
the demo's configuration (seed_catalog): what an order stores, what it answers, what it refuses."""

import pytest
from django.core.management import call_command

from catalog.models import Product
from inventory.models import Stock
from discounts.models import Redemption, Voucher
from orders.models import Order

pytestmark = pytest.mark.django_db

DE = {"name": "Erika Mustermann", "line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10117",
      "country": "DE"}
NY = {"name": "Ada", "line1": "1 Main St", "city": "New York", "region": "NY", "postal_code": "10001",
      "country": "US"}


def units_of(sku):
    """The product's units in all warehouses (the demo stocks two)."""
    return sum(Stock.objects.filter(product__sku=sku).values_list("available", flat=True))


@pytest.fixture
def demo(db):
    call_command("seed_catalog", stdout=open("/dev/null", "w"))


def order_body(checkout_body, address, lines=None, **more):
    return checkout_body(shipping_address=address, lines=lines or [{"sku": "MUG-001", "quantity": 2}], **more)


def test_the_methods_serving_a_country_cheapest_first_with_their_estimates(api, demo):
    answer = api.get("/api/shipping-methods/", {"country": "GB"})

    assert answer.status_code == 200
    assert answer.json() == [
        {"id": "uk-standard", "name": "Standard (Royal Mail Tracked 48)", "price": 600, "currency": "usd",
         "estimate_days": 3, "estimate_days_min": 2},
        {"id": "uk-express", "name": "Express (next working day)", "price": 1200, "currency": "usd",
         "estimate_days": 1, "estimate_days_min": 1},
    ]
    assert {len(api.get("/api/shipping-methods/", {"country": c}).json()) >= 2 for c in ("DE", "FR", "US")} == {True}


def test_a_cart_is_priced_by_weight_bracket_and_free_over_amount(api, demo):
    light = api.get("/api/shipping-methods/", {"country": "DE", "sku": "MUG-001", "quantity": 1}).json()
    heavy = api.get("/api/shipping-methods/", {"country": "DE", "sku": "BLK-FLC", "quantity": 4}).json()  # 5.6 kg
    too_heavy = api.get("/api/shipping-methods/", {"country": "DE", "sku": "BLK-FLC", "quantity": 15}).json()  # 21 kg
    us_small = api.get("/api/shipping-methods/", {"country": "US", "sku": "MUG-001", "quantity": 1}).json()
    us_big = api.get("/api/shipping-methods/", {"country": "US", "sku": "BLK-FLC", "quantity": 2}).json()  # $118

    assert {m["id"]: m["price"] for m in light} == {"eu-standard": 900, "eu-express": 1900}
    assert {m["id"]: m["price"] for m in heavy} == {"eu-standard": 2500, "eu-express": 1900}
    assert [m["id"] for m in too_heavy] == ["eu-express"]  # over Standard's heaviest bracket: not offered
    assert {m["id"]: m["price"] for m in us_small} == {"us-standard": 700, "us-priority": 1500}
    assert us_big[0] == {**us_big[0], "id": "us-standard", "price": 0}  # free over $75, so cheapest


@pytest.mark.parametrize("query,field", [
    ({"country": "ZZ"}, "country"), ({}, "country"),
    ({"country": "GB", "sku": "NOPE", "quantity": 1}, "sku"),
    ({"country": "GB", "sku": "MUG-001"}, "quantity"),
    ({"country": "GB", "sku": "MUG-001", "quantity": "²"}, "quantity"),
])
def test_the_methods_endpoint_refuses_what_it_cannot_price(api, demo, query, field):
    answer = api.get("/api/shipping-methods/", query)

    assert answer.status_code == 400 and field in answer.json()["errors"]


def test_an_order_stores_and_answers_its_totals_vat_included(api, demo, checkout_body, broker):
    answer = api.post("/api/orders/", order_body(checkout_body, DE, shipping_method="eu-express"), format="json")

    assert answer.status_code == 202, answer.content
    data = answer.json()
    # 2 mugs at $18.00, Express (EU) $19.00, German VAT 19% included in both.
    assert (data["subtotal"], data["discount"], data["shipping"], data["total"]) == (3600, 0, 1900, 5500)
    assert data["tax"] == round(3600 * 19 / 119) + round(1900 * 19 / 119) == 878
    assert data["shipping_method"] == {"id": "eu-express", "name": "Express (EU)"} and data["prices_include_tax"]
    order = Order.objects.get(pk=data["id"])
    assert (order.shipping_min_days, order.shipping_max_days, order.tax_label) == (1, 3, "MwSt.")
    assert api.get(f"/api/orders/{order.pk}/").json() == data


def test_prices_excluding_tax_add_a_us_state_s_sales_tax(api, demo, checkout_body, broker, settings):
    settings.PRICES_INCLUDE_TAX = False

    data = api.post("/api/orders/", order_body(checkout_body, NY), format="json").json()

    # $36.00 of mugs + $7.00 flat rate, New York's 4% on both, added.
    assert (data["subtotal"], data["shipping"], data["tax"]) == (3600, 700, 144 + 28)
    assert data["total"] == 3600 + 700 + 172 and not data["prices_include_tax"]


def test_omitting_the_method_takes_the_cheapest_for_the_country(api, demo, checkout_body, broker):
    data = api.post("/api/orders/", order_body(checkout_body, DE), format="json").json()

    assert data["shipping_method"]["id"] == "eu-standard" and data["shipping"] == 900


@pytest.mark.parametrize("method", ["uk-express", "no-such-method"])
def test_a_method_that_does_not_serve_the_address_is_400_and_nothing_is_written(api, demo, checkout_body, method):
    stock = units_of("MUG-001")

    answer = api.post("/api/orders/", order_body(checkout_body, DE, shipping_method=method), format="json")

    assert answer.status_code == 400 and "does not deliver to DE" in answer.json()["errors"]["shipping_method"][0]
    assert not Order.objects.exists() and units_of("MUG-001") == stock


def test_welcome10_takes_10_percent_once_per_e_mail(api, demo, checkout_body, broker):
    first = api.post("/api/orders/", order_body(checkout_body, DE, discount_code="welcome10"), format="json")
    again = api.post("/api/orders/", order_body(checkout_body, DE, discount_code="WELCOME10"), format="json")

    assert first.status_code == 202
    assert (first.json()["discount"], first.json()["discount_code"]) == (360, "WELCOME10")
    assert first.json()["total"] == 3600 - 360 + 900
    assert again.status_code == 400
    assert "already been used with this e-mail" in again.json()["errors"]["discount_code"][0]
    assert Order.objects.count() == 1 and Voucher.objects.get(code="WELCOME10").uses == 1


@pytest.mark.parametrize("change,message", [
    ({"active": False}, "not a code we know"),
    ({"ends_at": "2020-01-01T00:00:00Z"}, "has expired"),
    ({"starts_at": "2099-01-01T00:00:00Z"}, "not valid yet"),
    ({"uses": 5}, "used up"),
    ({"min_subtotal": 10_000}, "at least $100.00"),
])
def test_a_code_that_cannot_apply_is_400_next_to_its_field_and_nothing_is_written(change, message, api, demo,
                                                                                  checkout_body):
    Voucher.objects.filter(code="LAUNCH5").update(**change)
    stock = units_of("MUG-001")

    answer = api.post("/api/orders/", order_body(checkout_body, DE, discount_code="LAUNCH5"), format="json")

    assert answer.status_code == 400 and message in answer.json()["errors"]["discount_code"][0]
    assert not Order.objects.exists() and not Redemption.objects.exists()
    assert units_of("MUG-001") == stock


def test_a_code_for_some_products_takes_its_part_off_those_lines_only(api, demo, checkout_body, broker):
    voucher = Voucher.objects.create(code="MUGS20", kind="percent", percent=20)
    voucher.products.add(Product.objects.get(sku="MUG-001"))
    lines = [{"sku": "MUG-001", "quantity": 2}, {"sku": "NB-A5", "quantity": 1}]

    data = api.post("/api/orders/", order_body(checkout_body, DE, lines=lines, discount_code="mugs20"),
                    format="json").json()

    assert data["discount"] == 720  # 20% of the mugs' $36.00; the notebook at full price
    order = Order.objects.get(pk=data["id"])
    assert dict(order.lines.values_list("sku", "discount")) == {"MUG-001": 720, "NB-A5": 0}


def test_free_shipping_waives_the_method_s_price(api, demo, checkout_body, broker):
    Voucher.objects.create(code="SHIPFREE", kind="free_shipping")

    data = api.post("/api/orders/", order_body(checkout_body, DE, shipping_method="eu-express",
                                               discount_code="shipfree"), format="json").json()

    assert (data["shipping"], data["discount"], data["total"]) == (0, 0, 3600)


def test_reduced_and_zero_rated_products_are_taxed_at_their_rates(api, demo, checkout_body, broker):
    lines = [{"sku": "NB-A5", "quantity": 1}, {"sku": "PST-CHART", "quantity": 1}]  # reduced 7%, zero

    data = api.post("/api/orders/", order_body(checkout_body, DE, lines=lines), format="json").json()

    order = Order.objects.get(pk=data["id"])
    assert dict(order.lines.values_list("sku", "tax")) == {"NB-A5": round(1200 * 7 / 107), "PST-CHART": 0}
    assert data["tax"] == 79 + round(900 * 19 / 119)  # shipping at the standard rate


def test_the_schema_publishes_the_new_fields_and_the_endpoint(api, db):
    import yaml

    schema = yaml.safe_load(api.get("/api/schema/").content)
    order = schema["components"]["schemas"]["Order"]["properties"]
    checkout = schema["components"]["schemas"]["Checkout"]["properties"]
    assert {"subtotal", "discount", "shipping", "tax", "shipping_method"} <= set(order)
    assert {"shipping_method", "discount_code"} <= set(checkout)
    assert "/api/shipping-methods/" in schema["paths"]


def test_seeding_twice_changes_nothing_and_keeps_a_voucher_s_uses(demo):
    Voucher.objects.filter(code="LAUNCH5").update(uses=3)

    call_command("seed_catalog", stdout=open("/dev/null", "w"))

    assert Voucher.objects.get(code="LAUNCH5").uses == 3
    from shipping.models import ShippingMethod
    assert ShippingMethod.objects.count() == 7
