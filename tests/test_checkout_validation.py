"""POST /api/orders/ refuses bad input with a JSON error, writing nothing."""

import json

import pytest

from inventory.models import Stock
from orders import labels
from orders.models import Order, Shipment
from tests.factories import ProductFactory
from tests.pdftext import printed_lines

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
    "address printable on the label": ({"shipping_address": address(line1="12 Dock Road 🙂")}, "shipping_address",
                                       "cannot be printed on a shipping label: use"),
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


@pytest.mark.parametrize(("field", "value", "named"), [
    ("line1", "12 Dock Road 🙂", "\u201c🙂\u201d (U+1F642)"),  # emoji: no label font has them
    ("name", "Ada \ue000", "U+E000"),  # private use
    ("city", "Ports\u0378mouth", "U+0378"),  # unassigned
    ("line2", "Flat \u202e2", "U+202E"),  # a bidi override, invisible
])
def test_an_address_the_label_cannot_print_is_a_400_naming_the_field_and_the_character(
        api, catalog, checkout_body, field, value, named):
    response = post(api, checkout_body(shipping_address=address(**{field: value})))

    assert response.status_code == 400, response.content
    (message,) = response.json()["errors"]["shipping_address"][field]
    assert message.startswith(f"{named} cannot be printed on a shipping label: use the letters, digits")
    assert not Order.objects.exists()
    assert Stock.objects.get(product__sku="MUG-001").available == 50


@pytest.mark.parametrize("shipping_address", [
    {"name": "अनिता शर्मा", "line1": "फ़्लैट 12, श्री कृष्ण अपार्टमेंट", "line2": "सेक्टर 5, द्वारका",
     "city": "नई दिल्ली", "postal_code": "110075", "country": "IN"},
    {"name": "கொற்றவை சுப்பிரமணியம்", "line1": "பிளாக் 123, சிராங்கூன் சாலை", "city": "சிங்கப்பூர்",
     "postal_code": "218227", "country": "SG"},
    {"name": "সৌমিত্র চট্টোপাধ্যায়", "line1": "১২/৩ রাসবিহারী অ্যাভিনিউ", "city": "কলকাতা", "postal_code": "700029",
     "country": "IN", "region": "পশ্চিমবঙ্গ"},
    {"name": "क्\u200dष", "line1": "कर्\u200cक 1", "city": "Pune", "postal_code": "411001", "country": "IN"},  # ZWJ, ZWNJ
], ids=["devanagari", "tamil", "bengali", "joiners"])
def test_an_address_in_a_script_of_india_or_singapore_is_accepted_and_printed_as_written(
        api, catalog, checkout_body, broker, shipping_address):
    response = post(api, checkout_body(shipping_address=shipping_address))

    assert response.status_code == 202, response.content
    order = Order.objects.get()
    assert order.shipping_address == {"line2": "", "region": "", **shipping_address}
    printed = [line.text for line in printed_lines(labels.render(order, Shipment(order=order, tracking_number="HB1")))]
    assert printed[printed.index("SHIP TO") + 1] == shipping_address["name"]  # read as tests/test_labels.py does


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
