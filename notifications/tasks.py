from celery import shared_task

from harbor.logconfig import bind_order
from harbor.retry import retry_policy
from notifications import emails
from notifications.models import Notification
from orders.fulfillment import complete_if_done
from orders.models import CHARGED, Order


@shared_task(name="notifications.tasks.send_receipt", **retry_policy())
def send_receipt(order_id):
    """Fan-out half: e-mail the receipt once, then fulfill the order if the label exists too."""
    bind_order(order_id)
    if Order.objects.filter(pk=order_id, status__in=CHARGED).exists():
        emails.send(order_id, Notification.Kind.RECEIPT)
        complete_if_done(order_id, actor="send_receipt")


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
