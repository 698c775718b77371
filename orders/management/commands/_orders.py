"""Shared by the order commands (a leading underscore: not a command itself)."""

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from orders.models import Order


def get_order(order_id):
    try:
        return Order.objects.get(pk=order_id)
    except (Order.DoesNotExist, ValidationError):  # unknown, or not a UUID at all
        raise CommandError(f"no order with id {order_id!r}")
