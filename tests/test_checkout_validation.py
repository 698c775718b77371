"""POST /api/orders/ refuses bad input with a JSON error, writing nothing."""

import json

import pytest

from catalog.models import Stock
from orders.models import Order
from tests.factories import ProductFactory

ADDRESS = {"name": "Ada", "line1": "12 Dock Road", "city": "Portsmouth", "postal_code": "PO1", "country": "GB"}


def address(**changes):
    a = dict(ADDRESS, **changes)
    return {k: v for k, v in a.items() if v is not None}


CASES = {
    # rule: (fields to override, the field the error is reported under, a fragment of the message)
    "email required": ({"email": None}, "email", "required"),
    "email well-formed": ({"email": "not-an-email"}, "email", "valid email"),
    "email a plain address": ({"email": "ada@localhost"}, "email", "plain email address"),
    "email local part at most 64": ({"email": "a" * 65 + "@example.com"}, "email", "64 characters"),
    "at least one line": ({"lines": []}, "lines", "at least 1"),
    "at most 50 lines": ({"lines": [{"sku": f"S{i}", "quantity": 1} for i in range(51)]}, "lines", "no more than 50"),
    "quantity at least 1": ({"lines": [{"sku": "MUG-001", "quantity": 0}]}, "lines", "greater than or equal to 1"),
    "quantity at most 100": ({"lines": [{"sku": "MUG-001", "quantity": 101}]}, "lines", "less than or equal to 100"),
    "quantity an integer": ({"lines": [{"sku": "MUG-001", "quantity": "two"}]}, "lines", "valid integer"),
    "quantity a JSON integer": ({"lines": [{"sku": "MUG-001", "quantity": "2"}]}, "lines", "valid integer"),
    "known sku": ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines", "Unknown or unavailable SKU: NOPE"),
    "active sku": ({"lines": [{"sku": "OLD-1", "quantity": 1}]}, "lines", "Unknown or unavailable SKU: OLD-1"),
    "repeated sku rejected": ({"lines": [{"sku": "MUG-001", "quantity": 1}, {"sku": "MUG-001", "quantity": 2}]},
                              "lines", "SKU repeated: MUG-001"),
    "one currency": ({"lines": [{"sku": "MUG-001", "quantity": 1}, {"sku": "EUR-1", "quantity": 1}]},
                     "lines", "same currency"),
    "payment method shaped pm_": ({"payment_method": "card_123"}, "payment_method", "pm_"),
    "payment method required": ({"payment_method": None}, "payment_method", "required"),
    "address required": ({"shipping_address": None}, "shipping_address", "required"),
    "address name required": ({"shipping_address": address(name=None)}, "shipping_address", "required"),
    "address line1 bounded": ({"shipping_address": address(line1="x" * 201)}, "shipping_address", "200"),
    "address postal code bounded": ({"shipping_address": address(postal_code="1" * 21)}, "shipping_address", "20"),
    "country two letters": ({"shipping_address": address(country="GBR")}, "shipping_address", "2 characters"),
    "no NUL characters": ({"shipping_address": address(city="Ports\x00mouth")}, "shipping_address", "Null"),
    "not only spaces": ({"shipping_address": address(name=" \u3000\t")}, "shipping_address", "blank"),
    "text is a string": ({"shipping_address": address(postal_code=97201)}, "shipping_address", "valid string"),
    "region bounded": ({"shipping_address": address(region="x" * 101)}, "shipping_address", "100"),
}


@pytest.fixture
def catalog(db):
    ProductFactory(sku="MUG-001", stock__available=50)
    ProductFactory(sku="OLD-1", active=False)
    ProductFactory(sku="EUR-1", currency="eur")


def post(api, body, **headers):
    return api.post("/api/orders/", json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize("rule", CASES)
def test_invalid_checkout_is_400_naming_the_field_and_writes_nothing(rule, api, catalog, checkout_body):
    overrides, field, fragment = CASES[rule]
    body = {k: v for k, v in checkout_body(**overrides).items() if v is not None}

    response = post(api, body)

    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors and fragment in json.dumps(errors[field])
    assert not Order.objects.exists()
    assert Stock.objects.get(product__sku="MUG-001").available == 50


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"a string"', b"null", b'{"email": NaN}',
                                 b"[" * 5000, b'{"email": "\\ud800@x.io"}', b"\xff\xfe"])
def test_malformed_json_is_a_json_400(raw, api, catalog):
    response = api.generic("POST", "/api/orders/", raw, content_type="application/json")

    assert response.status_code == 400
    assert "errors" in response.json()
    assert not Order.objects.exists()


def test_body_over_64_kib_is_refused_with_413(api, catalog, checkout_body):
    body = checkout_body(email="a@example.com", padding="x" * (64 * 1024))

    response = post(api, body)

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert not Order.objects.exists()


def test_non_json_content_type_is_a_json_415(api, catalog):
    response = api.generic("POST", "/api/orders/", "email=a@b.c", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@pytest.mark.parametrize("key", ["", "k" * 256, "clé"])
def test_malformed_idempotency_key_is_400(key, api, catalog, checkout_body):
    response = post(api, checkout_body(), HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Order.objects.exists()


def test_wrong_method_is_a_json_405(api):
    response = api.delete("/api/orders/")

    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.parametrize("country", ["KP", "ZZ", "xx"])
def test_the_api_ships_only_to_the_storefront_s_countries(api, product, checkout_body, country):
    from orders.models import Order

    response = api.post("/api/orders/", checkout_body(shipping_address=address(country=country)), format="json")

    assert response.status_code == 400
    assert "does not ship there" in str(response.json()["errors"]["shipping_address"]["country"])
    assert not Order.objects.exists()


def test_a_country_harbor_ships_to_is_taken_in_any_case(api, product, checkout_body, broker):
    response = api.post("/api/orders/", checkout_body(shipping_address=address(country="gb")), format="json")

    assert response.status_code == 202
