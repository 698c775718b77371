"""Shared by the order commands (a leading underscore: not a command itself)."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from orders.models import Order, Shipment


def get_order(order_id):
    try:
        return Order.objects.get(pk=order_id)
    except (Order.DoesNotExist, ValidationError):  # unknown, or not a UUID at all
        raise CommandError(f"no order with id {order_id!r}")


def get_shipment(key):
    """A shipment by its tracking number (what is on the label) or its id."""
    found = Shipment.objects.filter(tracking_number=key.strip().upper()).first()
    if found is None and key.strip().isdigit():
        found = Shipment.objects.filter(pk=int(key)).first()
    if found is None:
        raise CommandError(f"no shipment with tracking number or id {key!r}")
    return found
