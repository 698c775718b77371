"""Bad input never breaks the API: no 500, always JSON, nothing written unless 202.

Two generators throw input at the API:

* hypothesis, at POST /api/orders/: arbitrary JSON, mutations of a valid checkout body and
  raw bytes, sent with arbitrary Idempotency-Key and Content-Type headers. Each example runs
  in a savepoint that is rolled back afterwards, so every example starts from the same catalog.
* schemathesis, at every operation of /api/schema/ (loaded from the WSGI app): valid and
  invalid requests derived from the schema; each answer must be documented and conform, and
  a request the schema calls valid must be accepted. Its stateful phase follows the schema's
  links from a placed order to the order and its label.
"""

import copy
import json
import string

import pytest
import schemathesis
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demo.catalog import DEMO_PRODUCTS
from catalog.models import Product
from inventory.models import Stock
from harbor.wsgi import application
from notifications.models import Notification
from orders import checkout
from orders.models import IdempotencyKey, Order, OrderEvent, OrderLine, Shipment
from payments.models import Payment
from tests.factories import ProductFactory

ERROR_STATUSES = {400, 409, 413, 415, 422}
USED_KEY = "used-key-1"  # claimed by an order placed in the `shop` fixture

ADDRESS = {"name": "Ada Lovelace", "line1": "12 Dock Road", "city": "Portsmouth",
           "postal_code": "PO1 3AX", "country": "GB"}
REPLAYED_BODY = {"email": "first@example.com", "lines": [{"sku": "MUG-001", "quantity": 1}],
                 "payment_method": "pm_card_visa", "shipping_address": ADDRESS}


@pytest.fixture
def shop(db):
    """A small catalog (plenty, scarce, inactive, another currency) and one order already
    placed with USED_KEY, so generated requests can hit replays and reused keys."""
    ProductFactory(sku="MUG-001", unit_price=1800, stock__available=50)
    ProductFactory(sku="TEE-001", unit_price=2600, stock__available=3)
    ProductFactory(sku="OLD-1", active=False, stock__available=10)
    ProductFactory(sku="EUR-1", currency="eur", stock__available=10)
    mug = Product.objects.get(sku="MUG-001")
    order, _ = checkout.place_order(
        email="first@example.com", lines=[{"product": mug, "quantity": 1}], payment_method="pm_card_visa",
        shipping_address=ADDRESS, idempotency_key=USED_KEY, request_hash=checkout.fingerprint(REPLAYED_BODY),
    )
    return order


# --- What the database holds -------------------------------------------------------------

COUNTED = [Order, OrderLine, OrderEvent, IdempotencyKey, Payment, Shipment, Notification, Product]


def snapshot():
    """Row counts of everything checkout could write, plus every stock level."""
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    return counts, dict(Stock.objects.values_list("product__sku", "available"))


# --- Strategies ----------------------------------------------------------------------------

# Any code point, including NUL and lone surrogates (hypothesis leaves surrogates out by default).
any_char = st.characters(exclude_categories=[])
nasty_strings = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\ud800", "\udfff", "x\ud83d", "\ufeff", "\u202e", "😀" * 3, "Ω≈ç√",
    "\n", "\r\n", "null", "0", "-1", "1e309", "NaN", "pm_", "MUG-001\x00", "mug-001", " MUG-001 ",
    "<script>", "' OR 1=1 --", "%s%s%n", "../../etc/passwd", "x" * 70_000,
])
texts = st.text(any_char, max_size=30) | nasty_strings
json_scalars = (
    st.none() | st.booleans() | st.integers() | st.floats() | texts
    | st.sampled_from([0, -1, 2**31, 2**63, 10**40, -(10**40), 1e308, -0.0, 0.5])
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(texts, children, max_size=6),
    max_leaves=25,
)

skus = st.sampled_from(["MUG-001", "TEE-001", "OLD-1", "EUR-1", "NOPE"]) | texts
quantities = (
    st.integers(min_value=1, max_value=60)
    | st.sampled_from([0, -1, 101, 2**31, 2**63, 10**4000, 1.0, 2.5, -0.0, 1e308, float("nan"), float("inf"),
                       "1", "1.0", "two", "", True, None, [], {}])
    | st.integers() | st.floats()
)
lines = st.fixed_dictionaries({"sku": skus, "quantity": quantities})


@st.composite
def valid_bodies(draw):
    """A checkout body that is valid (answered 202 or, when stock runs short, 409)."""
    chosen = draw(st.lists(st.sampled_from(["MUG-001", "TEE-001"]), min_size=1, max_size=2, unique=True))
    body = {
        "email": draw(st.sampled_from(["shopper@example.com", "A.B+tag@Example.ORG"])),
        "lines": [{"sku": sku, "quantity": draw(st.integers(1, 60))} for sku in chosen],
        "payment_method": draw(st.sampled_from(["pm_card_visa", "pm_card_chargeDeclined"])),
        "shipping_address": dict(ADDRESS, country=draw(st.sampled_from(["GB", "us", "De"]))),
    }
    if draw(st.booleans()):
        body["shipping_address"]["line2"] = draw(st.sampled_from(["", "Flat 2", "Ĉambro 3"]))
    return body


# Where a mutation may land: every field of the body, down to one line's fields.
PATHS = [("email",), ("lines",), ("lines", 0), ("lines", 0, "sku"), ("lines", 0, "quantity"), ("lines", 1),
         ("payment_method",), ("shipping_address",)] + [("shipping_address", f) for f in [*ADDRESS, "line2"]]
replacements = json_values | quantities | st.lists(lines, max_size=55) | st.just(REPLAYED_BODY["lines"])
mutations = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(PATHS), replacements),
    st.tuples(st.just("delete"), st.sampled_from(PATHS), st.none()),
    st.tuples(st.just("extra"), st.sampled_from([(), ("shipping_address",), ("lines", 0)]),
              st.tuples(texts, json_values)),
)


def mutate(body, changes):
    body = copy.deepcopy(body)
    for kind, path, value in changes:
        parent = body
        try:
            for step in path[:-1] if kind != "extra" else path:
                parent = parent[step]
            if kind == "extra" and isinstance(parent, dict):
                parent[value[0]] = value[1]
            elif kind == "set":
                # A copy: a value may be a module constant (st.just(REPLAYED_BODY["lines"])), and a
                # later change in this list (deleting a line's quantity) must not edit the constant.
                parent[path[-1]] = copy.deepcopy(value)
            elif kind == "delete":
                del parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            pass  # the path no longer exists after an earlier change
    return body


mutated_bodies = st.builds(mutate, valid_bodies(), st.lists(mutations, max_size=4))


def encode(value, how):
    """The JSON bytes a client might send: escaped, raw UTF-8 (surrogates become invalid
    bytes), or UTF-16; NaN/Infinity come out as the non-standard tokens."""
    if how == "escaped":
        return json.dumps(value).encode()
    if how == "utf-8":
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return json.dumps(value, ensure_ascii=False).encode("utf-16", "surrogatepass")


encodings = st.sampled_from(["escaped", "escaped", "utf-8", "utf-16"])
json_bodies = st.builds(encode, json_values, encodings)
checkout_bodies = st.builds(encode, mutated_bodies, encodings)
raw_bodies = st.binary(max_size=200) | st.sampled_from([
    b"", b"{", b"[" * 5000, b'{"a":' * 3000, b"\xff\xfe\x00", b'{"email": 1e999999}', b"1" * 5000,
    # more digits than Python converts by default (4300)
    b'{"email": "a@example.com", "lines": [{"sku": "MUG-001", "quantity": ' + b"9" * 5000 + b"}]}",
])

printable_ascii = st.text(st.sampled_from(string.printable[:95]), min_size=1, max_size=300)
idempotency_keys = st.one_of(
    st.none(), st.just(""), st.just(USED_KEY), st.just("k" * 255), st.just("k" * 256), st.just(" "),
    printable_ascii, st.text(any_char, max_size=40),
    st.text(max_size=1000),
)
charsets = st.sampled_from(["utf-8", "UTF-8", "latin-1", "ascii", "utf-16", "utf-32", "cp1252", "rot13",
                            "rot_13", "base64", "hex", "zlib", "bz2", "uu", "quopri", "idna", "punycode",
                            "undefined", "unicode_escape", "raw_unicode_escape", "nope", ""])
content_types = st.one_of(
    st.just("application/json"),
    st.sampled_from(["", "APPLICATION/JSON", "application/json;", "application/json; charset", "text/plain",
                     "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=x",
                     "application/vnd.api+json", "application/*", "*/*", "application/json/x", "application",
                     "application/json; charset*=utf-8''%E2%82%AC", "application/json; charset=\"utf-8\""]),
    st.builds("application/json; charset={}".format, charsets),
    st.text(max_size=60),
)


def as_wsgi(value):
    """A header value as a WSGI server hands it to Django: the bytes, decoded as latin-1."""
    return value.encode("utf-8", "surrogatepass").decode("latin-1")


# --- The property ----------------------------------------------------------------------------

def assert_answer_is_sane(api, body, key, content_type):
    """POST once inside a savepoint (rolled back afterwards) and check the answer against
    what the database holds before and after."""
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": as_wsgi(key)}
    with transaction.atomic():
        counts, stock = snapshot()
        orders = set(Order.objects.values_list("id", flat=True))
        response = api.generic("POST", "/api/orders/", body, content_type=as_wsgi(content_type), **headers)
        counts_after, stock_after = snapshot()
        new_orders = set(Order.objects.values_list("id", flat=True)) - orders
        transaction.set_rollback(True)

    assert response.status_code in ERROR_STATUSES | {200, 202}, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    answer = json.loads(response.content)

    if response.status_code == 202:
        assert len(new_orders) == 1 and counts_after["Order"] == counts["Order"] + 1
        assert answer["id"] == str(new_orders.pop()) and answer["status"] == "pending"
        assert response["Location"] == f"/api/orders/{answer['id']}/"
        assert counts_after["OrderLine"] == counts["OrderLine"] + len(answer["lines"]) > counts["OrderLine"]
        assert counts_after["OrderEvent"] == counts["OrderEvent"] + 1
        assert counts_after["IdempotencyKey"] == counts["IdempotencyKey"] + (1 if key else 0)
        for line in answer["lines"]:
            stock[line["sku"]] -= line["quantity"]
        assert stock_after == stock
        return response

    assert (counts_after, stock_after) == (counts, stock), f"{response.status_code} wrote rows"
    if response.status_code == 200:  # a replay of the order placed with USED_KEY
        assert key == USED_KEY and response["Idempotent-Replayed"] == "true"
    elif response.status_code == 400:
        assert isinstance(answer["errors"], dict) and answer["errors"]
    else:
        assert isinstance(answer["code"], str) and answer["code"]
    return response


HYPOTHESIS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def test_mutated_checkout_bodies_never_500_and_write_nothing_unless_202(api, shop):
    seen = set()

    @settings(max_examples=250, **HYPOTHESIS)
    @given(body=checkout_bodies, key=st.none() | st.just(USED_KEY) | idempotency_keys,
           content_type=st.just("application/json") | content_types)
    def post_mutated_body(body, key, content_type):
        seen.add(assert_answer_is_sane(api, body, key, content_type).status_code)

    post_mutated_body()
    # Not vacuous: the generated requests reach orders placed, stock short, bad input,
    # a reused key and a refused media type.
    assert seen >= {202, 400, 409, 415, 422}, seen


def test_arbitrary_bodies_and_headers_never_500_and_write_nothing_unless_202(api, shop):
    seen = set()

    @settings(max_examples=150, **HYPOTHESIS)
    @given(body=json_bodies | raw_bodies, key=idempotency_keys, content_type=content_types)
    def post_anything(body, key, content_type):
        seen.add(assert_answer_is_sane(api, body, key, content_type).status_code)

    post_anything()
    assert seen >= {400, 415}, seen


def test_replayed_key_and_oversized_body_write_nothing(api, shop):
    """The two answers the generators above reach only by luck, checked by the same property."""
    replay = assert_answer_is_sane(api, json.dumps(REPLAYED_BODY).encode(), USED_KEY, "application/json")
    assert replay.status_code == 200 and replay.json()["id"] == str(shop.id), replay.content
    huge = dict(REPLAYED_BODY, email="x" * 70_000)
    assert assert_answer_is_sane(api, json.dumps(huge).encode(), None, "application/json").status_code == 413


# --- schemathesis: every operation of the published schema -------------------------------

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
SEEDED_SKUS = [sku for sku, *_ in DEMO_PRODUCTS]


@schema.hook
def map_case(context, case):
    """Positive checkout bodies are made to fit what the schema cannot know: their SKUs name
    the seeded catalog (one line per SKU, so at most one line per product), and an
    Idempotency-Key is made this body's own, as a key used for another body is rightly 422.
    Negative cases are left as generated."""
    positive = case.meta is not None and case.meta.generation.mode == schemathesis.GenerationMode.POSITIVE
    if positive and context.operation.label == "POST /api/orders/" and isinstance(case.body, dict):
        lines = [line for line in case.body.get("lines") or [] if isinstance(line, dict)]
        case.body["lines"] = [dict(line, sku=sku) for line, sku in zip(lines, SEEDED_SKUS)]
        # Which shipping methods serve which country, and which codes exist, is data too
        # (tests/test_pricing.py checks them): positive bodies take the defaults.
        case.body.pop("shipping_method", None)
        case.body.pop("discount_code", None)
        key = (case.headers or {}).get("Idempotency-Key")
        if key is not None:
            case.headers["Idempotency-Key"] = f"{checkout.fingerprint(case.body)[:16]}-{key}"[:255]
    if positive and context.operation.label == "GET /api/shipping-methods/" and case.query:
        # A cart of the seeded catalog: one quantity per SKU, each SKU once.
        skus, quantities = case.query.get("sku") or [], case.query.get("quantity") or []
        skus, quantities = list(skus if isinstance(skus, list) else [skus]), list(
            quantities if isinstance(quantities, list) else [quantities])
        pairs = min(len(skus), len(quantities), len(SEEDED_SKUS))
        case.query["sku"], case.query["quantity"] = SEEDED_SKUS[:pairs], quantities[:pairs]
    return case


def restock():
    """No orders, and stock enough for every order generated cases place."""
    IdempotencyKey.objects.all().delete()
    Order.objects.all().delete()
    Stock.objects.update(available=1_000_000, received=1_000_000)


@pytest.fixture
def seeded_shop(transactional_db, broker):
    """The demo catalog, committed (the WSGI app runs outside the test's transaction)."""
    call_command("seed_catalog", verbosity=0)
    restock()


def assert_nothing_written_unless_placed(case, response, before):
    if case.method.upper() == "POST":
        (counts, stock), (counts_after, stock_after) = before, snapshot()
        if response.status_code == 202:
            assert counts_after["Order"] == counts["Order"] + 1
        else:
            assert (counts_after, stock_after) == (counts, stock), f"{response.status_code} wrote rows"


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case, seeded_shop):
    """Every default check: no 5xx, documented status codes, conforming bodies and headers,
    schema-invalid input rejected, 405 for other methods, and schema-valid input accepted
    (positive data acceptance): the schema states every rule the server enforces that it
    can state (lengths, patterns, bounds, non-blank text, plain e-mail addresses).
    Before the schema said so, a valid body with `"lines": []` and blank address fields
    was refused with 400."""
    before = snapshot()
    response = case.call_and_validate()
    pdf = case.method.upper() == "GET" and case.path.endswith(".pdf") and response.status_code == 200
    assert response.headers["content-type"][0].startswith("application/pdf" if pdf else "application/json")
    assert_nothing_written_unless_placed(case, response, before)


class FollowTheLinks(schema.as_state_machine()):
    """Place an order, then follow the links of its answer: the order, its label."""

    seen = set()  # (operation, status) of every step, to show the links were followed

    def setup(self):
        # Every scenario starts from the same shop: Hypothesis replays scenarios and needs
        # the same answers (a replayed Idempotency-Key would answer 200 instead of 202).
        restock()

    def step(self, input):
        before = snapshot()
        output = super().step(input)
        assert_nothing_written_unless_placed(output.case, output.response, before)
        self.seen.add((output.case.operation.label, output.response.status_code))
        return output

    def validate_response(self, response, case, additional_checks=None, **kwargs):
        # The label exists only once the order is fulfilled, and no worker runs here: its
        # documented 404 is right, not a resource that vanished after being created.
        label_pending = case.path.endswith("/label.pdf") and response.status_code == 404
        # Nor is an order fulfilled, so a return of it is refused with the documented 400
        # ("only a fulfilled order can be returned"): well-formed, and still refused.
        not_returnable = (case.path.endswith("/returns/") and response.status_code == 400
                          and "only a fulfilled order can be returned" in response.text)
        excluded = ([schemathesis.checks.ensure_resource_availability] if label_pending else
                    [schemathesis.checks.positive_data_acceptance] if not_returnable else None)
        case.validate_response(
            response, additional_checks=additional_checks, transport_kwargs=kwargs or None, recorder=self.recorder,
            excluded_checks=excluded,
        )


def test_following_the_links_from_a_placed_order_answers_as_documented(seeded_shop):
    """schemathesis's stateful phase: sequences of POST /api/orders/ and the links of its
    202/200 answers, with every default check on each step and nothing written unless placed."""
    FollowTheLinks.seen.clear()
    FollowTheLinks.run(settings=settings(max_examples=30, stateful_step_count=4, deadline=None,
                                         suppress_health_check=list(HealthCheck)))
    # Not vacuous: orders were placed and both links followed to an existing order.
    assert {("POST /api/orders/", 202), ("GET /api/orders/{id}/", 200),
            ("GET /api/orders/{id}/label.pdf", 404)} <= FollowTheLinks.seen, FollowTheLinks.seen
