from celery import shared_task

from harbor.logconfig import bind_order
from harbor.retry import retry_policy
from notifications import emails
from notifications.models import Notification
from orders import outbox
from orders.fulfillment import complete_if_done
from orders.models import CHARGED

CONSUMER = "notifications.tasks.on_event"
KIND_FOR_EVENT = {
    "order.payment_failed": Notification.Kind.PAYMENT_FAILED,
    "order.canceled": Notification.Kind.CANCELED,
    "order.refunded": Notification.Kind.REFUND,
    "return.requested": Notification.Kind.RETURN_REQUESTED,
    "return.approved": Notification.Kind.RETURN_APPROVED,
    "return.rejected": Notification.Kind.RETURN_REJECTED,
    "return.received": Notification.Kind.RETURN_RECEIVED,
}


@shared_task(name=CONSUMER, **retry_policy())
def on_event(event_id):
    """The outbox's consumer (orders/outbox.py): the e-mail an order event calls for, once
    (Notification rows dedupe a repeated event), then struck off the event. If it fails for
    good (retries used up), the event stays pending and reconciliation sends it again."""
    event = outbox.load(event_id)
    if event is None:
        return None
    bind_order(event.order_id)
    if event.type == "order.paid":
        _receipt(event.order_id)
    elif event.type in KIND_FOR_EVENT:
        about = event.data if event.type.startswith("return.") else None
        emails.send(event.order_id, KIND_FOR_EVENT[event.type],
                    ref=str(event.data.get("return_id", "")) if about else "", about=about)
    outbox.handled(event.pk, CONSUMER)
    return event.type


def _receipt(order_id):
    # Only for a charged order (the status read with the order the e-mail is drawn from).
    if emails.send(order_id, Notification.Kind.RECEIPT, only_if=CHARGED) is not None:
        complete_if_done(order_id, actor="send_receipt")


@shared_task(name="notifications.tasks.send_receipt", **retry_policy())
def send_receipt(order_id):
    """Fan-out half: e-mail the receipt once, then fulfill the order if the label exists too."""
    bind_order(order_id)
    _receipt(order_id)


# The tasks below were sent by orders/ before the outbox; kept so that messages still queued
# from before an upgrade are carried out.
@shared_task(name="notifications.tasks.send_payment_failed", **retry_policy())
def send_payment_failed(order_id):
    bind_order(order_id)
    emails.send(order_id, Notification.Kind.PAYMENT_FAILED)


@shared_task(name="notifications.tasks.send_refund", **retry_policy())
def send_refund(order_id):
    bind_order(order_id)
    emails.send(order_id, Notification.Kind.REFUND)


@shared_task(name="notifications.tasks.send_canceled", **retry_policy())
def send_canceled(order_id):
    bind_order(order_id)
    emails.send(order_id, Notification.Kind.CANCELED)


@shared_task(name="notifications.tasks.send_order_links", **retry_policy())
def send_order_links(email, reference):
    """"Find my order": the link to the order, e-mailed to the address it was placed with."""
    emails.send_order_links(email, reference)
