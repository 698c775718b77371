"""Which failures a task retries, and how: Celery's autoretry with exponential backoff
and full jitter, capped below the broker's visibility timeout (harbor/settings.py).

The platform knows the failures of the platform (database, Redis, SMTP, the network, a
soft time limit); a domain app adds its own (payments: Stripe's transient errors).
"""

import smtplib

import kombu.exceptions
import redis
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError


class NotSettledYet(Exception):
    """Something will change by itself (a Stripe intent `processing`): look again later."""


TRANSIENT_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OperationalError,
    InterfaceError,
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
    # The broker away while a task publishes (the fan-out, a retry): kombu's OperationalError.
    kombu.exceptions.OperationalError,
    NotSettledYet,
    # A run that hit the soft time limit is retried like any transient failure (the order's
    # attempt cap still counts it: see orders.fulfillment.begin_run).
    SoftTimeLimitExceeded,
)


def retry_policy(*more_transient_errors):
    return {
        "autoretry_for": (*TRANSIENT_ERRORS, *more_transient_errors),
        "retry_backoff": settings.TASK_RETRY_BACKOFF,
        "retry_backoff_max": settings.TASK_RETRY_BACKOFF_MAX,
        "retry_jitter": True,
        "max_retries": settings.TASK_MAX_RETRIES,
        "acks_late": True,
        "reject_on_worker_lost": True,
    }
