"""Shipments: one per order, created with its tracking number, then given its label."""

import secrets

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from orders import labels
from orders.models import CHARGED, Order, Shipment


def new_tracking_number():
    return "HB" + "".join(secrets.choice("0123456789") for _ in range(14))


def ensure_shipment(order):
    """The order's shipment, created on first use (the unique row settles races)."""
    shipment, _ = Shipment.objects.get_or_create(order=order, defaults={"tracking_number": new_tracking_number()})
    return shipment


def create_label(order_id):
    """Render and store the label once. True if this call created it."""
    with transaction.atomic():
        order = Order.objects.prefetch_related("lines").get(pk=order_id)
        if order.status not in CHARGED:
            return False
        # Locking the row makes a concurrent duplicate wait, then find the label made.
        shipment = Shipment.objects.select_for_update().get(pk=ensure_shipment(order).pk)
        if shipment.label:
            return False
        shipment.label.save(f"{order.id}.pdf", ContentFile(labels.render(order, shipment)), save=False)
        shipment.label_created_at = timezone.now()
        shipment.save(update_fields=["label", "label_created_at"])
    return True
