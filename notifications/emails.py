"""Order e-mails: each kind sent at most once per order (barring a crash between the
SMTP server accepting it and our write, the one gap no mail system closes).

No row lock is held while talking to the SMTP server: the send is claimed with one
conditional UPDATE (`claimed_at`), the message sent outside any transaction, and `sent_at`
written after. A concurrent duplicate finds the claim and stops; a claim left by a sender
that died expires after the task time limit, and the next try sends.

A permanent refusal of the recipient (an SMTP 5xx for the address: no such mailbox, refused)
is final: the row is marked failed with the server's answer, and nothing sends it again. A
temporary one (4xx: greylisting, a full mailbox, the server away) is retried as before.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone

from notifications.models import Notification
from orders import links, totals
from orders.addresses import address_lines
from orders.models import Order, OrderEvent, OrderLine, Shipment

logger = logging.getLogger(__name__)

SUBJECTS = {
    Notification.Kind.RECEIPT: "Your Harbor order {short} is on its way",
    Notification.Kind.PAYMENT_FAILED: "Payment failed for your Harbor order {short}",
    Notification.Kind.REFUND: "Your Harbor order {short} has been refunded",
    Notification.Kind.CANCELED: "Your Harbor order {short} has been canceled",
    Notification.Kind.RETURN_REQUESTED: "We have your return request for order {short}",
    Notification.Kind.RETURN_APPROVED: "Your return for order {short} is approved: send the items back",
    Notification.Kind.RETURN_REJECTED: "Your return for order {short} was not accepted",
    Notification.Kind.RETURN_RECEIVED: "Your return for order {short} has arrived",
}


def send(order_id, kind, ref="", about=None, only_if=None):
    """Send the order's e-mail of this kind (about `ref`, e.g. a return, described by the event's
    data `about`) unless it was sent (or is being sent) already. True if sent now; None, and
    nothing done, if the order's status is not in `only_if` (when given)."""
    order = Order.objects.prefetch_related(Prefetch("lines", OrderLine.objects.select_related("product"))).get(
        pk=order_id)
    if only_if is not None and order.status not in only_if:
        return None
    row = Notification.objects.filter(order=order, kind=kind, ref=ref)  # every write below finds it by its key
    claimed_at = timezone.now()
    if not _claim(order, kind, ref, claimed_at):
        return False
    message = _message(order, kind, ref, about or {})
    try:
        message.send()
    except BaseException as exc:
        if (refusal := permanent_refusal(exc)) is not None:
            row.filter(claimed_at=claimed_at).update(failed_at=timezone.now(), error=refusal)
            OrderEvent.objects.create(order=order, actor="notifications", message=(
                f"The {kind.replace('_', ' ')} e-mail to {order.email} was refused for good by the mail server "
                f"({refusal}): not sent again."))
            logger.warning("order %s: %s e-mail to %s refused for good: %s", order_id, kind, order.email, refusal)
            return False
        row.filter(claimed_at=claimed_at).update(claimed_at=None)  # the retry sends
        raise
    row.update(subject=message.subject, sent_at=timezone.now(), message_id=message.extra_headers["Message-ID"])
    logger.info("order %s: %s e-mail sent to %s", order_id, kind, order.email)
    return True


# The row made already claimed, or an existing one claimed if nobody sent, refused or is sending
# it (a claim older than the task time limit was left by a sender that died): RETURNING has a
# row only if this statement claimed it.
CLAIM = """
INSERT INTO notifications_notification
    (order_id, kind, ref, "to", subject, message_id, claimed_at, sent_at, failed_at, error, created_at)
VALUES (%s, %s, %s, %s, '', '', %s, NULL, NULL, '', %s)
ON CONFLICT (order_id, kind, ref) DO UPDATE SET claimed_at = EXCLUDED.claimed_at
WHERE (notifications_notification.claimed_at IS NULL OR notifications_notification.claimed_at < %s)
  AND notifications_notification.sent_at IS NULL AND notifications_notification.failed_at IS NULL
RETURNING id
"""


def _claim(order, kind, ref, claimed_at):
    """Claim the order's e-mail of this kind for this sender, in one statement (CLAIM). A
    concurrent duplicate waits on the unique (order, kind, ref), then finds the claim."""
    expired = claimed_at - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)  # its sender is surely gone
    with connection.cursor() as cursor:
        cursor.execute(CLAIM, [order.pk, kind, ref, order.email, claimed_at, claimed_at, expired])
        return cursor.fetchone() is not None


def permanent_refusal(exc):
    """The server's answer if `exc` says the recipient is refused for good (5xx), else None."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = list(exc.recipients.values())
        if answers and all(code >= 500 for code, _ in answers):
            return "; ".join(f"{code} {_text(text)}" for code, text in answers)
    elif isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500:
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    return None


def _text(answer):
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)


def _message(order, kind, ref="", about=None):
    # Only the receipt lists parcels, only the payment-failed e-mail gives the card's error and
    # only the cancellation its reason: each is read for its own kind (the pipeline sends a
    # receipt per order, and every query here is one more round trip on its path).
    shipments = (list(Shipment.objects.filter(order_id=order.pk).select_related("warehouse").prefetch_related("lines"))
                 if kind == Notification.Kind.RECEIPT else [])
    payment = getattr(order, "payment", None) if kind == Notification.Kind.PAYMENT_FAILED else None
    context = {"order": order, "lines": list(order.lines.all()), "rows": totals.breakdown(order),
               "shipping_estimate": totals.shipping_estimate(order),
               "address_lines": address_lines(order.shipping_address),
               "tracking_number": shipments[0].tracking_number if shipments else None,
               "shipments": shipments,
               # The receipt's signed link to the order's return form (storefront).
               "return_url": links.url(order, "storefront:order-return"),
               "return_days": settings.RETURN_WINDOW_DAYS,
               "payment_error": payment.last_error if payment else "",
               "cancel_reason": (order.events.filter(to_status="canceled").values_list("message", flat=True).last()
                                 if kind == Notification.Kind.CANCELED else None),
               "order_link": links.url(order),  # signed, for the order's life (orders/links.py)
               "ret": about}  # a return's e-mail: the return as its event described it
    subject = SUBJECTS[kind].format(short=order.reference)
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/{kind}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email],
        # A stable id: if a crash makes us send twice, mail systems can tell it is one message.
        headers={"Message-ID": f"<{kind}.{order.id}{'.' + ref if ref else ''}@harbor>"},
    )
    message.attach_alternative(render_to_string(f"notifications/{kind}.html", context), "text/html")
    return message


# --- "Find my order" --------------------------------------------------------------------

OTHER_ORDERS = 10  # the most recent other orders of the same address listed in the e-mail


def send_order_links(email, reference):
    """E-mail the signed link to the order with this reference, if one was placed with this
    address (any case), and those of the address's latest other orders. Nothing otherwise:
    the page that asked answers the same either way, and this runs in a worker, so neither the
    answer nor its timing tells whether the order exists. True if an e-mail was sent.

    Not a Notification row (one per kind per order): a shopper may ask again, and each request
    is its own e-mail (the page's limits bound how often)."""
    number = links.number_of(reference)
    order = (Order.objects.filter(number=number, email__iexact=email.strip()).first()
             if number is not None else None)
    if order is None:
        logger.info("find my order: no order %s for the address given; nothing sent", reference)
        return False
    others = (Order.objects.filter(email__iexact=order.email).exclude(pk=order.pk)
              .order_by("-created_at")[:OTHER_ORDERS])
    context = {"order": order, "order_link": links.url(order),
               "others": [{"order": other, "link": links.url(other)} for other in others]}
    message = EmailMultiAlternatives(
        subject=f"Your Harbor order {order.reference}: your link",
        body=render_to_string("notifications/order_links.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[order.email],
    )
    message.attach_alternative(render_to_string("notifications/order_links.html", context), "text/html")
    try:
        message.send()
    except BaseException as exc:
        if (refusal := permanent_refusal(exc)) is not None:  # not retried: the address refuses mail
            logger.warning("find my order: the link for %s was refused for good: %s", order.reference, refusal)
            return False
        raise
    OrderEvent.objects.create(order=order, actor="notifications",
                              message=f"The order's link was e-mailed to {order.email} on request (Find my order).")
    logger.info("find my order: link to %s e-mailed", order.reference)
    return True
