"""Which failures a task retries, and how: Celery's autoretry with exponential backoff
and full jitter, capped below the broker's visibility timeout (harbor/settings.py)."""

import smtplib

import redis
from django.conf import settings
from django.db import InterfaceError, OperationalError

from payments.gateway import TRANSIENT_ERRORS as STRIPE_TRANSIENT


class NotSettledYet(Exception):
    """Stripe reports a state that will change by itself (e.g. `processing`): look again later."""


TRANSIENT_ERRORS = (
    *STRIPE_TRANSIENT,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OperationalError,
    InterfaceError,
    smtplib.SMTPException,
    ConnectionError,
    TimeoutError,
    NotSettledYet,
)


def retry_policy():
    return {
        "autoretry_for": TRANSIENT_ERRORS,
        "retry_backoff": settings.TASK_RETRY_BACKOFF,
        "retry_backoff_max": settings.TASK_RETRY_BACKOFF_MAX,
        "retry_jitter": True,
        "max_retries": settings.TASK_MAX_RETRIES,
        "acks_late": True,
        "reject_on_worker_lost": True,
    }
