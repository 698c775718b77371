"""One parcel per warehouse: an order whose stock comes from two warehouses gets two shipments,
each with its own lines, tracking number and label (the sender is that warehouse), made by
the real worker; the order is fulfilled once both labels and the receipt exist. The shopper's
page and receipt list each parcel; ops mark each one shipped (with the carrier's page) and
delivered, from the admin and by manage.py, and nothing else moves a parcel."""

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command
from django.test import Client

from orders import shipping
from orders.models import Order, OrderEvent, Shipment
from tests.conftest import eventually, wait_for_status
from tests.factories import ProductFactory, StockFactory, WarehouseFactory
from tests.pdftext import printed_lines

NEWARK = {"name": "Harbor Newark", "line1": "400 Raymond Blvd", "city": "Newark", "region": "NJ",
          "postal_code": "07105", "country": "US"}
PORTSMOUTH = {"name": "Harbor Portsmouth", "line1": "1 Quay Street", "city": "Portsmouth",
              "postal_code": "PO1 2AB", "country": "GB"}
TO_US = {"name": "Grace Hopper", "line1": "1 Main St", "city": "Arlington", "region": "VA", "postal_code": "22201",
         "country": "US"}


@pytest.fixture
def two_warehouses(db):
    """The mug is only in Portsmouth, the tee only in Newark: an order of both ships in two parcels."""
    newark = WarehouseFactory(code="newark", name="Newark, US", priority=1, countries=["US"], address=NEWARK)
    portsmouth = WarehouseFactory(code="portsmouth", name="Portsmouth, UK", priority=2, address=PORTSMOUTH)
    mug = ProductFactory(sku="MUG-001", unit_price=1800, stock=None)
    tee = ProductFactory(sku="TEE-BLK-M", unit_price=2400, stock=None)
    StockFactory(product=mug, warehouse=portsmouth, available=10)
    StockFactory(product=tee, warehouse=newark, available=10)
    return newark, portsmouth


def two_parcel_order(api, checkout_body, email="parcels@example.com"):
    body = checkout_body(email=email, shipping_address=TO_US,
                         lines=[{"sku": "MUG-001", "quantity": 2}, {"sku": "TEE-BLK-M", "quantity": 1}])
    response = api.post("/api/orders/", body, format="json")
    assert response.status_code == 202, response.json()
    return wait_for_status(response.json()["id"], ("fulfilled", "payment_failed", "needs_review"))


def test_an_order_from_two_warehouses_ships_in_two_parcels_each_labeled_from_its_warehouse(
        two_warehouses, worker, api, checkout_body, smtp_sink):
    order = two_parcel_order(api, checkout_body)

    assert order.status == "fulfilled"
    parcels = {s.warehouse.code: s for s in order.shipments.select_related("warehouse")}
    assert {code: s.lines_text() for code, s in parcels.items()} == {"portsmouth": "2 × MUG-001",
                                                                      "newark": "1 × TEE-BLK-M"}
    for code, sender in (("newark", "Harbor Newark"), ("portsmouth", "Harbor Portsmouth")):
        parcel = parcels[code]
        assert parcel.status == "labeled" and parcel.label
        printed = [line.text for line in printed_lines(parcel.label.open("rb").read())]
        sender_block = printed[printed.index("FROM") + 1:printed.index("SHIP TO")]
        assert sender_block[0] == sender and "Grace Hopper" in printed
        assert parcel.tracking_number in " ".join(printed)
    assert parcels["newark"].tracking_number != parcels["portsmouth"].tracking_number

    # The API: `shipments` lists both; `shipment` is still the first of them.
    data = api.get(f"/api/orders/{order.pk}/").json()
    assert [s["tracking_number"] for s in data["shipments"]] == [s.tracking_number for s in order.shipments.all()]
    assert data["shipment"]["tracking_number"] == data["shipments"][0]["tracking_number"]
    assert sorted((line["sku"], line["quantity"]) for s in data["shipments"] for line in s["lines"]) == [
        ("MUG-001", 2), ("TEE-BLK-M", 1)]
    for parcel in data["shipments"]:
        label = api.get(parcel["label_url"])
        assert label.status_code == 200 and label["Content-Type"] == "application/pdf"

    # The receipt lists each parcel.
    (receipt,) = eventually(lambda: smtp_sink.to("parcels@example.com", "is on its way"))
    text = receipt.get_body(("plain",)).get_content()
    assert "ships in 2 parcels" in text
    for parcel in parcels.values():
        assert parcel.tracking_number in text


def test_the_order_page_lists_each_parcel_with_its_own_label(two_warehouses, worker, api, checkout_body, client):
    order = two_parcel_order(api, checkout_body, "page@example.com")

    page = client.get(f"/orders/{order.pk}/").content.decode()

    for n, parcel in enumerate(order.shipments.all(), 1):
        assert f"Parcel {n} of 2" in page and parcel.tracking_number in page
        assert f"/api/orders/{order.pk}/shipments/{parcel.pk}/label.pdf" in page


@pytest.fixture
def labeled(db):
    """A paid order's one parcel with its label printed (as the label task leaves it)."""
    order = Order.objects.create(email="a@example.com", payment_method="pm_card_visa", total=1800, currency="usd",
                                 status="fulfilled", shipping_address=PORTSMOUTH)
    return Shipment.objects.create(order=order, tracking_number="HB10000000000001", status="labeled",
                                   label="labels/x.pdf")


def test_manage_py_marks_a_parcel_shipped_with_the_carrier_page_then_delivered(labeled, capsys):
    call_command("mark_shipped", labeled.tracking_number, "--carrier-url", "https://track.example/HB1")
    call_command("mark_delivered", str(labeled.pk))

    labeled.refresh_from_db()
    assert (labeled.status, labeled.carrier_url) == ("delivered", "https://track.example/HB1")
    assert labeled.shipped_at and labeled.delivered_at
    assert list(OrderEvent.objects.filter(order=labeled.order).values_list("actor", "message")) == [
        ("manage.py mark_shipped", f"Shipment {labeled.tracking_number} shipped (https://track.example/HB1)."),
        ("manage.py mark_delivered", f"Shipment {labeled.tracking_number} delivered."),
    ]


@pytest.mark.parametrize("command,args,error", [
    ("mark_delivered", [], "only a shipped shipment can be marked delivered; this one is labeled"),
    ("mark_shipped", ["--carrier-url", "javascript:alert(1)"], "is not an http(s) URL"),
    ("mark_shipped", ["--carrier-url", "track.example"], "is not an http(s) URL"),
])
def test_manage_py_refuses_a_step_out_of_order_or_a_bad_url_and_changes_nothing(labeled, command, args, error):
    with pytest.raises(CommandError, match=error.replace("(", r"\(").replace(")", r"\)")):
        call_command(command, labeled.tracking_number, *args)

    labeled.refresh_from_db()
    assert labeled.status == "labeled" and not OrderEvent.objects.exists()


def test_a_parcel_is_marked_shipped_once_however_often_it_is_asked(labeled):
    shipping.mark_shipped(labeled, actor="ops")
    with pytest.raises(shipping.ShipmentRefused, match="this one is shipped"):
        shipping.mark_shipped(labeled, actor="ops")
    with pytest.raises(CommandError, match="no shipment"):
        call_command("mark_shipped", "HB-NOPE")

    assert OrderEvent.objects.filter(message__contains="shipped").count() == 1


def test_a_parcel_without_its_label_cannot_be_marked_shipped(labeled):
    Shipment.objects.filter(pk=labeled.pk).update(status="pending", label="")

    with pytest.raises(shipping.ShipmentRefused, match="with its label"):
        shipping.mark_shipped(labeled, actor="ops")


def test_ops_mark_parcels_shipped_in_the_admin_with_a_carrier_page_each(labeled, ops_login):
    ops = ops_login("ops-sam")
    changelist = "/admin/orders/shipment/"
    selected = {"action": "mark_shipped", "_selected_action": [labeled.pk]}

    page = ops.post(changelist, selected)  # the intermediate page: one URL field per parcel
    assert page.status_code == 200 and b"Carrier tracking page" in page.content
    bad = ops.post(changelist, {**selected, "apply": "1", f"s{labeled.pk}-carrier_url": "not a url"})
    assert bad.status_code == 200 and b"Enter a valid URL" in bad.content
    assert Shipment.objects.get(pk=labeled.pk).status == "labeled"

    done = ops.post(changelist, {**selected, "apply": "1", f"s{labeled.pk}-carrier_url": "https://track.example/1"},
                    follow=True)
    assert f"{labeled.tracking_number} ({labeled.order.reference}): shipped" in done.content.decode()
    labeled.refresh_from_db()
    assert (labeled.status, labeled.carrier_url) == ("shipped", "https://track.example/1")

    ops.post(f"/admin/orders/shipment/{labeled.pk}/deliver/")  # the button on the parcel's own page
    assert Shipment.objects.get(pk=labeled.pk).status == "delivered"
    assert OrderEvent.objects.filter(order=labeled.order, actor="ops-sam").count() == 2


def test_staff_without_the_ship_permission_cannot_mark_parcels(labeled):
    viewer = User.objects.create_user("viewer", "v@example.com", "not-a-secret-3141", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_shipment"))
    client = Client()
    client.force_login(viewer)

    changelist = client.get("/admin/orders/shipment/")
    assert changelist.status_code == 200 and b"mark_shipped" not in changelist.content
    assert client.post(f"/admin/orders/shipment/{labeled.pk}/ship/", {"apply": "1"}).status_code == 403
    assert Shipment.objects.get(pk=labeled.pk).status == "labeled"


def test_the_order_admin_lists_each_parcel_with_its_warehouse_and_status(labeled, admin_client):
    page = admin_client.get(f"/admin/orders/order/{labeled.order.pk}/change/").content.decode()

    assert "Parcels" in page and labeled.tracking_number in page and "Label printed" in page
    assert f"/admin/orders/shipment/{labeled.pk}/change/" in page
