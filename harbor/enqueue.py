"""Sending a task for an order once the current transaction commits.

Every caller has already recorded the work in PostgreSQL (an order status, a refund
request), so a publish that fails because the broker is down is logged, not raised:
reconciliation (orders/reconcile.py) sends the task again later. Tasks go by name, so the
sender needs no import of the task's module.
"""

import logging
import threading
import time

from celery import signature
from django.conf import settings
from django.db import transaction
from kombu.exceptions import KombuError

logger = logging.getLogger(__name__)
_publishing = threading.local()  # .deadline: while this thread is inside send()


def within_budget(exc, interval):
    """The publish retry policy's errback: give up (raise) once the calling thread's send() has
    no time left for another try.

    One function for every send(), reading the deadline of the send() running in this thread,
    and a no-op outside one. kombu copies a publish's retry policy, errback included, into the
    connection's transport options, which every pooled connection shares, and later reuses it
    for any connect through `default_channel`: a closure over one checkout's deadline would
    stay there after that checkout and make every later publish of the process (a task's
    retry, a Beat send) give up at its first failed attempt, before failing over to the
    next node of a cluster."""
    deadline = getattr(_publishing, "deadline", None)
    if deadline is not None and time.monotonic() + interval >= deadline:
        raise exc


def send(task_name, order_id, **kwargs):
    """Publish now, within a budget of CELERY_BROKER_CONNECTION_TIMEOUT (1 s): a broker that is
    down, or blackholed (TCP accepted, nothing answered), costs the caller (a checkout) about
    that long, then the publish fails. The budget bounds each of the three ways to wait:
    connecting (the connect timeout), RabbitMQ's publisher confirm (a pooled connection that
    has stalled, or a broker holding publishers back under a memory or disk alarm), and the
    retries of the publish retry policy, which reconnect only while time is left (so a stale
    pooled connection, which fails at once, is replaced, and a blackhole is not waited out twice).

    With a list of RabbitMQ nodes, a node that went silent costs one publish its budget; the
    connection has moved on to the next node by then (harbor/failover.py), so the next
    publishes reach a live node within theirs."""
    budget = settings.CELERY_BROKER_CONNECTION_TIMEOUT
    _publishing.deadline = time.monotonic() + budget
    try:
        signature(task_name, args=[str(order_id)], kwargs=kwargs).apply_async(
            confirm_timeout=budget,
            retry_policy={**settings.CELERY_TASK_PUBLISH_RETRY_POLICY, "errback": within_budget})
    finally:
        _publishing.deadline = None


def send_or_log(task_name, order_id, **kwargs):
    """send(); a publish the broker did not take is one warning line, not an error with a
    traceback (rendering one costs a checkout more than the publish budget): it is expected
    in an outage, and reconciliation sends the task again."""
    try:
        send(task_name, order_id, **kwargs)
    except (KombuError, OSError) as exc:  # kombu's OperationalError; a socket timeout or reset
        logger.warning("could not publish %s for order %s (%s: %s); reconciliation will send it again",
                       task_name, order_id, exc.__class__.__name__, exc)


def after_commit(task_name, order_id, **kwargs):
    """Send after commit (at once outside a transaction); a failed publish is only logged.

    (A closure, not functools.partial: Django logs a failed robust callback's __qualname__.)
    """
    transaction.on_commit(lambda: send_or_log(task_name, order_id, **kwargs), robust=True)
