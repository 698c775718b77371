"""Sending a task for an order once the current transaction commits.

Every caller has already recorded the work in PostgreSQL (an order status, a refund
request), so a publish that fails because the broker is down is logged, not raised:
reconciliation (orders/reconcile.py) sends the task again later. Tasks go by name, so the
sender needs no import of the task's module.
"""

from celery import signature
from django.db import transaction


def send(task_name, order_id, **kwargs):
    signature(task_name, args=[str(order_id)], kwargs=kwargs).apply_async()


def after_commit(task_name, order_id, **kwargs):
    """Send after commit (at once outside a transaction); a failed publish is only logged.

    (A closure, not functools.partial: Django logs a failed robust callback's __qualname__.)
    """
    transaction.on_commit(lambda: send(task_name, order_id, **kwargs), robust=True)
