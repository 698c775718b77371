"""Ops export the orders they selected in the admin to CSV: one row per order line, with the
order's totals and status, amounts in the currency's own decimals, streamed; a cell a
spreadsheet would run as a formula is defused."""

import csv
import io

from django.contrib.auth.models import User
from django.test import Client

from orders.admin_export import COLUMNS
from orders.models import Order
from tests.factories import ProductFactory, order_line


def export(client, orders):
    response = client.post("/admin/orders/order/", {"action": "export_csv",
                                                   "_selected_action": [str(o.pk) for o in orders]})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="harbor-orders-')
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_ops_export_the_selected_orders_one_row_per_line(api, checkout_body, ops_login, db):
    ProductFactory(sku="MUG-001", unit_price=1800, stock__available=10)
    ProductFactory(sku="TEE-BLK-M", unit_price=2400, stock__available=10)
    placed = [api.post("/api/orders/", checkout_body(email=f"buyer{i}@example.com", lines=[
        {"sku": "MUG-001", "quantity": 2}, {"sku": "TEE-BLK-M", "quantity": 1}]), format="json").json()
        for i in range(2)]
    left_out = api.post("/api/orders/", checkout_body(email="other@example.com"), format="json").json()
    orders = list(Order.objects.filter(pk__in=[p["id"] for p in placed]).order_by("number"))

    rows = export(ops_login("ops1"), orders)

    assert list(rows[0]) == COLUMNS
    assert [(row["reference"], row["sku"], row["quantity"]) for row in rows] == [
        (o.reference, sku, qty) for o in orders for sku, qty in (("MUG-001", "2"), ("TEE-BLK-M", "1"))]
    assert left_out["id"] not in {row["order_id"] for row in rows}
    first = rows[0]
    order = orders[0]
    assert (first["status"], first["email"], first["currency"], first["unit_price"]) == (
        "pending", "buyer0@example.com", order.currency.upper(), "18.00")
    assert first["order_total"] == f"{order.total / 100:.2f}" == f"{placed[0]['total'] / 100:.2f}"
    assert first["order_shipping"] == f"{order.shipping / 100:.2f}"


def test_a_cell_a_spreadsheet_would_run_is_defused_and_zero_decimal_amounts_stay_whole(db):
    product = ProductFactory(sku="=HYPERLINK(\"http://evil\")", unit_price=500, currency="jpy", stock__available=5)
    order = Order.objects.create(email="=cmd@example.com", shipping_address={"country": "JP"},
                                 payment_method="pm_card_visa", subtotal=500, total=500, currency="jpy")
    order_line(order, product, 1, unit_price=500)
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@example.com", "x-not-a-secret-1"))
    [row] = export(admin, [order])
    assert row["email"] == "'=cmd@example.com" and row["sku"] == "'=HYPERLINK(\"http://evil\")"
    assert (row["unit_price"], row["order_total"], row["currency"]) == ("500", "500", "JPY")
