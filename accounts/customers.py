"""What an account owns: its orders (attached when its address is verified), its saved
addresses; and deleting it, which keeps the orders for the merchant's books."""

import logging

from django.db import transaction
from django.utils import timezone

from accounts.models import Address
from orders.models import Order

logger = logging.getLogger(__name__)


def attach_guest_orders(user, email):
    """Attach the orders placed with `email` (any case) that belong to no account. Only call
    this with an address the user has just proved they own (a verified e-mail). Returns how many."""
    attached = Order.objects.filter(customer__isnull=True, email__iexact=email).update(customer=user)
    if attached:
        logger.info("account %s: %d guest order(s) attached on verifying its e-mail address", user.pk, attached)
    return attached


def orders_of(user):
    return Order.objects.filter(customer=user).order_by("-created_at")


def remember_address(user, address):
    """Keep the shipping address of an order the signed-in shopper placed (once per distinct
    address; using it again makes it the one the next checkout is pre-filled with)."""
    fields = {field: (address.get(field) or "").strip() for field in Address.FIELDS}
    fields["country"] = fields["country"].upper()
    Address.objects.update_or_create(user=user, **fields, defaults={"last_used_at": timezone.now()})


def addresses_of(user):
    return list(Address.objects.filter(user=user))


@transaction.atomic
def delete_account(user):
    """Delete the account and what is only the person's (addresses, e-mail addresses, sessions'
    link to it). The orders stay, for the merchant's books (their e-mail address and shipping
    address are part of the sale), detached from the account. Returns the orders kept."""
    kept = Order.objects.filter(customer=user).update(customer=None)
    user.delete()  # cascades: Address, allauth's EmailAddress and confirmations
    logger.info("an account was deleted; %d order(s) kept, detached", kept)
    return kept
