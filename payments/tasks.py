from celery import shared_task

from harbor.retry import retry_policy
from payments import refund


@shared_task(name="payments.tasks.refund_order", **retry_policy())
def refund_order(order_id, actor="refund_order"):
    """Refund a paid or fulfilled order once; safe to send any number of times."""
    try:
        return "refunded" if refund.refund(order_id, actor=actor) else "already refunded"
    except refund.NotRefundable as exc:
        return f"not refundable: {exc}"
