"""Order e-mails: each kind sent at most once per order (barring a crash between the
SMTP server accepting it and our commit, the one gap no mail system closes)."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import Notification
from orders.models import Order

logger = logging.getLogger(__name__)

SUBJECTS = {
    Notification.Kind.RECEIPT: "Your Harbor order {short} is on its way",
    Notification.Kind.PAYMENT_FAILED: "Payment failed for your Harbor order {short}",
    Notification.Kind.REFUND: "Your Harbor order {short} has been refunded",
}


def send(order_id, kind):
    """Send the order's e-mail of this kind unless it was sent already. True if sent now."""
    with transaction.atomic():
        order = Order.objects.prefetch_related("lines").get(pk=order_id)
        row, _ = Notification.objects.get_or_create(order=order, kind=kind, defaults={"to": order.email})
        # The row lock makes a concurrent duplicate wait here, then see `sent_at` and stop.
        row = Notification.objects.select_for_update().get(pk=row.pk)
        if row.sent_at:
            return False
        message = _message(order, kind)
        message.send()
        row.subject, row.message_id, row.sent_at = message.subject, message.extra_headers["Message-ID"], timezone.now()
        row.save(update_fields=["subject", "message_id", "sent_at"])
    logger.info("order %s: %s e-mail sent to %s", order_id, kind, order.email)
    return True


def _message(order, kind):
    shipment = getattr(order, "shipment", None)
    context = {"order": order, "lines": list(order.lines.all()), "address": order.shipping_address,
               "tracking_number": shipment.tracking_number if shipment else None,
               "payment_error": order.payment.last_error if hasattr(order, "payment") else ""}
    subject = SUBJECTS[kind].format(short=str(order.id)[:8])
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email],
        # A stable id: if a crash makes us send twice, mail systems can tell it is one message.
        headers={"Message-ID": f"<{kind}.{order.id}@harbor>"},
    )
    message.attach_alternative(render_to_string(f"notifications/{kind}.html", context), "text/html")
    return message
