"""Shipments: one per warehouse an order takes stock from, each with its tracking number, its
lines, its label (sender: that warehouse) and its status (labeled → shipped → delivered).

The shipments are created when the order is paid, in the same transaction as that move (so
the label tasks and the receipt always find them), from what checkout took from each
warehouse (inventory.Allocation). Each one's label is made once (`create_label`, under the
shipment's row lock), and ops mark each one shipped and delivered (`mark_shipped`,
`mark_delivered`: conditional updates, an OrderEvent each).
"""

import secrets
from collections import defaultdict

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from inventory.models import Allocation, Warehouse
from orders import labels, outbox
from orders.models import CHARGED, OrderEvent, OrderLine, Shipment, ShipmentLine


class ShipmentRefused(Exception):
    """The shipment is not in a state that allows this (the message says which)."""


def new_tracking_number():
    return "HB" + "".join(secrets.choice("0123456789") for _ in range(14))


def make_shipments(order):
    """Make the order's shipments, one per warehouse it took stock from, with their lines. An
    order placed before warehouses existed took no allocation: one shipment of all its lines,
    from the first warehouse. Call it holding the order's row, for an order that has none
    (both callers do: the paid move, right after its conditional UPDATE won, and
    ensure_shipments_of's select_for_update and check); the unique (order, warehouse) row is
    the backstop. It runs in the paid move's transaction, on every order's path: what each
    warehouse gave, with the line's SKU, in one read, then two INSERTs."""
    taken = defaultdict(list)
    sku = Subquery(OrderLine.objects.filter(order_id=OuterRef("order_id"), product_id=OuterRef("product_id"))
                   .values("sku")[:1])
    for warehouse_id, product_id, quantity, line_sku in (
            Allocation.objects.filter(order_id=order.pk).annotate(sku=sku)
            .order_by("warehouse__priority", "warehouse_id", "product_id")
            .values_list("warehouse_id", "product_id", "quantity", "sku")):
        taken[warehouse_id].append((product_id, line_sku or "", quantity))
    if not taken:
        first = Warehouse.objects.filter(active=True).first()
        taken[first.pk if first else None] = [(line.product_id, line.sku, line.quantity) for line in order.lines.all()]
    made = Shipment.objects.bulk_create([Shipment(order=order, warehouse_id=warehouse_id,
                                                  tracking_number=new_tracking_number())
                                         for warehouse_id in taken])
    ShipmentLine.objects.bulk_create([ShipmentLine(shipment=shipment, product_id=product_id, sku=line_sku,
                                                   quantity=quantity)
                                      for shipment in made for product_id, line_sku, quantity in taken[shipment.warehouse_id]])
    return made


def create_label(order_id, shipment_id=None):
    """Render and store the label of the shipment (or of each shipment that has none) once.
    The shipment row is locked, so a concurrent duplicate waits, then finds the label made.
    Returns how many labels this call made."""
    ids = [shipment_id] if shipment_id else list(Shipment.objects.filter(order_id=order_id).values_list("pk", flat=True))
    made = 0
    for pk in ids:
        with transaction.atomic():
            # The shipment locked, with its order (only a charged order gets labels) in the same read.
            shipment = (Shipment.objects.select_for_update(of=("self",)).select_related("warehouse", "order")
                        .filter(pk=pk, order_id=order_id, order__status__in=CHARGED).first())
            if shipment is None or shipment.label:
                continue
            order = shipment.order
            sender = shipment.warehouse.address if shipment.warehouse else settings.SHIP_FROM
            items = [(line.quantity, line.sku) for line in shipment.lines.all()]
            shipment.label.save(f"{order.id}-{shipment.pk}.pdf",
                                ContentFile(labels.render(order, shipment, sender=sender, items=items)), save=False)
            shipment.label_created_at = timezone.now()
            shipment.status = Shipment.Status.LABELED
            shipment.save(update_fields=["label", "label_created_at", "status"])
            # The warehouse's system learns of the parcel once its label exists (webhooks).
            outbox.emit("shipment.created", order.id, _shipment_data(shipment, items))
            made += 1
    return made


def _shipment_data(shipment, items):
    return {"shipment_id": shipment.pk, "tracking_number": shipment.tracking_number,
            "warehouse": shipment.warehouse.name if shipment.warehouse_id else "",
            "lines": [{"sku": sku, "quantity": quantity} for quantity, sku in items]}


def mark_shipped(shipment, actor, carrier_url=""):
    """The parcel went to the carrier (with its tracking page, if given). Once its label exists."""
    with transaction.atomic():
        moved = Shipment.objects.filter(pk=shipment.pk, status=Shipment.Status.LABELED).update(
            status=Shipment.Status.SHIPPED, shipped_at=timezone.now(), carrier_url=carrier_url)
        if not moved:
            current = Shipment.objects.values_list("status", flat=True).get(pk=shipment.pk)
            raise ShipmentRefused(f"only a shipment with its label can be marked shipped; this one is {current}")
        OrderEvent.objects.create(order_id=shipment.order_id, actor=actor, message=(
            f"Shipment {shipment.tracking_number} shipped" + (f" ({carrier_url})" if carrier_url else "") + "."))
        outbox.emit("shipment.shipped", shipment.order_id,
                    {**_shipment_data(shipment, [(line.quantity, line.sku) for line in shipment.lines.all()]),
                     "carrier_url": carrier_url})
    return "shipped"


def mark_delivered(shipment, actor):
    with transaction.atomic():
        moved = Shipment.objects.filter(pk=shipment.pk, status=Shipment.Status.SHIPPED).update(
            status=Shipment.Status.DELIVERED, delivered_at=timezone.now())
        if not moved:
            current = Shipment.objects.values_list("status", flat=True).get(pk=shipment.pk)
            raise ShipmentRefused(f"only a shipped shipment can be marked delivered; this one is {current}")
        OrderEvent.objects.create(order_id=shipment.order_id, actor=actor,
                                  message=f"Shipment {shipment.tracking_number} delivered.")
    return "delivered"
