"""POST /api/orders/: the checkout happy path and what it writes."""

import pytest

from inventory.models import Stock
from orders.models import Order, OrderEvent, OrderLine
from tests.conftest import queued_tasks
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)  # on_commit must really fire


def test_checkout_answers_202_with_a_pending_order_priced_from_the_database(api, product, checkout_body, broker):
    ProductFactory(sku="TOTE-1", unit_price=1500, stock__available=5)
    body = checkout_body(lines=[{"sku": "MUG-001", "quantity": 2, "unit_price": 1}, {"sku": "TOTE-1", "quantity": 1}])

    response = api.post("/api/orders/", body, format="json")

    assert response.status_code == 202
    order = Order.objects.get()
    assert response["Location"] == f"/api/orders/{order.id}/"
    data = response.json()
    assert data["id"] == str(order.id) and data["status"] == "pending"
    assert data["total"] == 2 * 1800 + 1500 and data["currency"] == "usd"  # the client's unit_price is ignored
    assert data["lines"] == [{"sku": "MUG-001", "quantity": 2, "unit_price": 1800},
                             {"sku": "TOTE-1", "quantity": 1, "unit_price": 1500}]
    assert data["payment"] is None and data["shipment"] is None and data["receipt_sent_at"] is None
    assert order.shipping_address["country"] == "GB" and order.shipping_address["line2"] == ""
    assert dict(Stock.objects.values_list("product__sku", "available")) == {"MUG-001": 48, "TOTE-1": 4}
    event = OrderEvent.objects.get(order=order)
    assert (event.from_status, event.to_status, event.actor) == ("", "pending", "checkout")


def test_checkout_stores_the_address_trimmed_with_its_optional_region(api, product, checkout_body, broker):
    address = {"name": " Ada Lovelace ", "line1": "1 Main St", "city": "Portland", "region": " OR",
               "postal_code": "97201 ", "country": "us"}

    response = api.post("/api/orders/", checkout_body(email="ada@example.com", shipping_address=address),
                        format="json")

    assert response.status_code == 202, response.content
    assert Order.objects.get().shipping_address == {
        "name": "Ada Lovelace", "line1": "1 Main St", "line2": "", "city": "Portland", "region": "OR",
        "postal_code": "97201", "country": "US"}


def test_checkout_enqueues_fulfill_order_on_the_payments_queue_after_commit(api, product, checkout_body, broker):
    response = api.post("/api/orders/", checkout_body(), format="json")

    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [response.json()["id"]])]


def test_order_id_is_a_random_uuid_not_a_sequence(api, product, checkout_body, broker):
    ids = [api.post("/api/orders/", checkout_body(), format="json").json()["id"] for _ in range(2)]

    assert all(len(i) == 36 and i.count("-") == 4 for i in ids)
    assert ids[0] != ids[1] and not ids[0].isdigit()


def test_get_order_returns_the_contract_shape(api, product, checkout_body, broker):
    created = api.post("/api/orders/", checkout_body(), format="json").json()

    response = api.get(f"/api/orders/{created['id']}/")

    assert response.status_code == 200
    assert response.json() == created
    assert set(created) >= {"id", "status", "email", "lines", "total", "currency", "payment", "shipment",
                            "receipt_sent_at", "created_at", "updated_at"}  # the contract's
    assert set(created) - {"id", "status", "email", "lines", "total", "currency", "payment", "shipment",
                           "receipt_sent_at", "created_at", "updated_at"} == {
        "reference", "subtotal", "discount", "shipping", "tax", "prices_include_tax", "discount_code",
        "shipping_method", "shipments"}  # and what this round added to it


@pytest.mark.parametrize("path", ["/api/orders/00000000-0000-4000-8000-000000000000/", "/api/orders/42/",
                                  "/api/orders/not-a-uuid/", "/nowhere"])
def test_unknown_order_or_path_is_a_json_404(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_insufficient_stock_is_409_and_writes_nothing(api, product, checkout_body, broker):
    ProductFactory(sku="RARE-1", stock__available=1)
    body = checkout_body(lines=[{"sku": "MUG-001", "quantity": 2}, {"sku": "RARE-1", "quantity": 3}])

    response = api.post("/api/orders/", body, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert response.json()["skus"] == ["RARE-1"]
    assert not Order.objects.exists() and not OrderLine.objects.exists() and not OrderEvent.objects.exists()
    # The MUG-001 units taken before RARE-1 came up short were rolled back.
    assert dict(Stock.objects.values_list("product__sku", "available")) == {"MUG-001": 50, "RARE-1": 1}
    assert queued_tasks(broker, "payments") == []


def test_products_list_shows_active_products_with_availability(api, product):
    ProductFactory(sku="OLD-1", active=False)

    response = api.get("/api/products/")

    assert response.status_code == 200
    assert response.json() == {"count": 1, "next": None, "previous": None, "results": [
        {"sku": "MUG-001", "name": product.name, "unit_price": 1800, "currency": "usd", "available": 50,
         "category": None}]}


def test_checkout_with_the_broker_unreachable_still_answers_202_and_keeps_the_order(api, product, checkout_body,
                                                                                    monkeypatch):
    from harbor.celery import app
    from harbor.devservices.base import free_port

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{free_port()}/0")
    # Fresh pools on the dead broker for this test; monkeypatch puts the real ones back after
    # (both are cached: restoring only one leaves later publishes on the dead URL).
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)

    response = api.post("/api/orders/", checkout_body(), format="json")

    assert response.status_code == 202
    assert Order.objects.get().status == "pending"  # reconciliation will enqueue it later


def test_publishing_works_again_after_the_broker_unreachable_test(api, product, checkout_body, broker):
    """Guards the test above: it must not leave the app publishing to its dead broker."""
    response = api.post("/api/orders/", checkout_body(), format="json")

    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [response.json()["id"]])]


def test_the_stock_take_is_prepared_once_per_connection_and_then_not_planned_again(api, product, checkout_body,
                                                                                   broker):
    from django.db import connection

    for n in range(12):
        assert api.post("/api/orders/", checkout_body(), format="json",
                        HTTP_IDEMPOTENCY_KEY=f"plan-{n}").status_code == 202
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE '%%INSERT INTO inventory_allocation%%'")
        prepared = cursor.fetchall()

    # One prepared statement for the one-line cart (harbor.db.prepared_cursor): PostgreSQL plans
    # it for its first few runs, then keeps a generic plan and plans it no more.
    assert len(prepared) == 1, prepared
    statement, generic, custom = prepared[0]
    assert "FOR UPDATE OF s" in statement
    assert custom <= 5 and generic >= 12 - custom, (generic, custom)


def test_a_checkout_costs_three_round_trips_and_reads_back_nothing_it_wrote(api, product, checkout_body, broker):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # The shipping methods and tax rates come from the cache (shipping.rates, tax.calculation),
    # read in one Redis round trip once warm: the first checkout after a pricing change builds them.
    api.post("/api/orders/", checkout_body(), format="json", HTTP_IDEMPOTENCY_KEY="warm-1")
    with CaptureQueriesContext(connection) as captured:
        response = api.post("/api/orders/", checkout_body(), format="json", HTTP_IDEMPOTENCY_KEY="cheap-1")

    assert response.status_code == 202
    queries = [q["sql"] for q in captured.captured_queries if q["sql"].split()[0] not in ("BEGIN", "COMMIT")]
    # The key claimed in one INSERT … ON CONFLICT; the products looked up and all lines' stock
    # reserved in one statement; the order, its lines and its first event in one round trip:
    assert [sql.split()[0] for sql in queries] == ["INSERT", "WITH", "INSERT"], queries
    assert "ON CONFLICT" in queries[0] and "catalog_product" in queries[1] and "UPDATE inventory_stock" in queries[1]
    assert "INSERT INTO inventory_allocation" in queries[1]  # what came from which warehouse, in the same statement
    assert [table in queries[2] for table in ("orders_order ", "orders_orderline", "orders_orderevent")] == [True] * 3
    assert not any(sql.startswith("SELECT") and any(t in sql for t in (
        "orders_orderline", "payments_payment", "orders_shipment", "notifications_notification"))
        for sql in queries)
    assert response.json()["lines"] == [{"sku": "MUG-001", "quantity": 2, "unit_price": 1800}]
