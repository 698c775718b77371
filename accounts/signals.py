"""Guest orders join the account of the person who proves they own the address they were
placed with: when an account's e-mail address is verified (at sign-up, or a changed address),
every order placed with that address that belongs to no account is attached to it."""

import logging

from allauth.account.signals import email_confirmed, user_signed_up
from django.dispatch import receiver

from accounts import customers

logger = logging.getLogger(__name__)


@receiver(email_confirmed)
def attach_on_verification(request, email_address, **kwargs):
    customers.attach_guest_orders(email_address.user, email_address.email)


@receiver(user_signed_up)
def attach_on_sign_up(request, user, **kwargs):
    # Only an address already verified at sign-up (e.g. created by staff as verified); the usual
    # sign-up verifies it afterwards, and attach_on_verification does it then.
    from allauth.account.models import EmailAddress

    for address in EmailAddress.objects.filter(user=user, verified=True):
        customers.attach_guest_orders(user, address.email)
