"""The published schema says what the server enforces: for every field of the checkout body,
a value that the schema (read by jsonschema-rs, the validator schemathesis uses) calls valid
is accepted, and one it calls invalid is refused. What the schema cannot say (SKUs of the
catalog, one line per SKU, one currency, stock) is in the operation's description."""

import re

import jsonschema_rs
import pytest
from drf_spectacular.generators import SchemaGenerator
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError

from orders.fields import EMAIL
from orders.serializers import AddressSerializer, CheckoutLineSerializer, CheckoutSerializer

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
COMPONENTS = SCHEMA["components"]["schemas"]
FIELDS = [("Address", AddressSerializer, name) for name in AddressSerializer().fields] + [
    ("CheckoutLine", CheckoutLineSerializer, "sku"), ("CheckoutLine", CheckoutLineSerializer, "quantity"),
    ("Checkout", CheckoutSerializer, "email"), ("Checkout", CheckoutSerializer, "payment_method"),
]

# What DRF would trim, refuse as blank or as NUL, around ordinary characters.
SPACES = [chr(c) for c in range(0x110000) if chr(c).isspace()]
tricky_text = st.text(st.sampled_from([*SPACES, "\x00", "\ufeff", "a", "Z", "é", "7", "@", ".", "-", "_"]), max_size=8)
padded_text = st.builds("{0}{1}{0}".format, st.sampled_from(["", " ", "\t"]),
                        st.text(st.sampled_from("ab "), max_size=260))
emails = st.emails() | st.from_regex(EMAIL, fullmatch=True) | st.sampled_from([
    "a@localhost", '"quoted"@example.com', "a@[127.0.0.1]", "a@例え.jp", "a@b.co\n", " a@b.co", "a..b@c.io",
    "a@b.c0m", "a@xn--p1ai.xn--p1ai", "pm_1", "GB", "us",
    # "--" as a label's 3rd and 4th characters (IDNA A-labels): jsonschema-rs checks their punycode.
    "0@A.XN--TCKWE", "a@ab--cd.com", "a@xn--bcher-kva.com", "a@b.xn--a",
])
# Text in the scripts the label prints and in none of them (emoji, private use, unassigned).
label_text = st.sampled_from(["नई दिल्ली", "சிங்கப்பூர்", "কলকাতা", "क्\u200dष", "Asha 🙂", "\ue000", "x\u0378",
                              "a\u202eb", "\u200d", " \u200c ", "\ufffd", "\ufffc", "ߊ", "𝐀", "\U00020000"])
values = (tricky_text | padded_text | st.text(max_size=30) | emails | label_text | st.integers(-5, 200)
          | st.floats() | st.booleans() | st.none() | st.sampled_from([[], {}, ["a"], "2", "2.0", 2.0]))


def server_accepts(serializer, name, value):
    try:
        serializer().fields[name].run_validation(value)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(("component", "serializer", "name"), FIELDS, ids=[f"{c}.{n}" for c, _, n in FIELDS])
def test_a_value_is_accepted_exactly_when_the_schema_calls_it_valid(component, serializer, name):
    published = jsonschema_rs.Draft4Validator(COMPONENTS[component]["properties"][name])

    @settings(max_examples=300, deadline=None)
    @given(value=values)
    def agrees(value):
        assert server_accepts(serializer, name, value) == published.is_valid(value), repr(value)

    agrees()


def test_the_schema_states_the_body_s_bounds_and_the_idempotency_key():
    checkout = COMPONENTS["Checkout"]["properties"]
    assert (checkout["lines"]["minItems"], checkout["lines"]["maxItems"]) == (1, 50)
    assert checkout["payment_method"]["pattern"] == "^pm_[A-Za-z0-9_]+$"
    assert checkout["email"]["format"] == "email" and checkout["email"]["pattern"].startswith("^[A-Za-z0-9")
    quantity = COMPONENTS["CheckoutLine"]["properties"]["quantity"]
    assert (quantity["type"], quantity["minimum"], quantity["maximum"]) == ("integer", 1, 100)
    address = COMPONENTS["Address"]
    country = re.compile(address["properties"]["country"]["pattern"])  # the shipping countries, any case
    assert country.match("GB") and country.match("us") and country.match("De")
    assert not country.match("ZZ") and not country.match("KP")
    assert "region" in address["properties"] and "region" not in address["required"]
    operation = SCHEMA["paths"]["/api/orders/"]["post"]
    (key,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header" and not key.get("required") and key["schema"]["maxLength"] == 255
    for rule in ["active product", "one line per SKU", "one currency"]:
        assert rule in operation["description"]


def test_a_placed_order_links_to_itself_and_its_label():
    responses = SCHEMA["paths"]["/api/orders/"]["post"]["responses"]
    operation_ids = {path: SCHEMA["paths"][path]["get"]["operationId"]
                     for path in ["/api/orders/{id}/", "/api/orders/{id}/label.pdf"]}
    for status in ["200", "202"]:
        links = responses[status]["links"]
        assert {link["operationId"] for link in links.values()} == set(operation_ids.values())
        assert all(link["parameters"] == {"id": "$response.body#/id"} for link in links.values())
