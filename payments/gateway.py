"""The Stripe gateway wrapper: every call Harbor makes to Stripe goes through here.

Every write carries an idempotency key derived from the order, so a retried call is the
same call to real Stripe. localstripe ignores those keys, which is why the charge
service also persists each object id before using it and re-reads Stripe on retry.
"""

import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

import stripe
from django.conf import settings


class DeadlinePassed(stripe.APIConnectionError):
    """Too little time is left before the task's deadline to make another Stripe call."""


# Failures worth retrying: the request may not have happened, or may succeed later.
TRANSIENT_ERRORS = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)

_deadline = ContextVar("stripe_deadline", default=None)  # time.monotonic() by which every call must be over
MIN_CALL_SECONDS = 0.5


@contextmanager
def deadline(seconds):
    """Every Stripe call in the block ends within `seconds` from now, all together.

    A charge makes up to six calls; each waits at most STRIPE_TIMEOUT, but never beyond the
    deadline, so a task given its soft time limit as the deadline cannot be stopped by it
    in the middle of a call (a call that is cut short raises a transient error and the task
    retries, looking at what Stripe has first)."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def request_timeout():
    """Seconds the next call may take: STRIPE_TIMEOUT, or what is left before the deadline."""
    until = _deadline.get()
    if until is None:
        return settings.STRIPE_TIMEOUT
    left = until - time.monotonic()
    if left < MIN_CALL_SECONDS:
        raise DeadlinePassed(f"{left:.1f}s left before the task's deadline: not calling Stripe")
    return min(settings.STRIPE_TIMEOUT, left)


class DeadlineRequestsClient(stripe.RequestsClient):
    """stripe-python's requests client, with each request's timeout from request_timeout()
    (read per call, from a context variable: safe with a threads or gevent worker pool)."""

    @property
    def _timeout(self):
        return request_timeout()

    @_timeout.setter
    def _timeout(self, value):  # set by the base class's __init__; the settings decide instead
        pass


@cache
def client():
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None,
        # No hidden retries: Celery retries, after looking at what Stripe already has.
        # (stripe-python's own retries re-send creates that localstripe would duplicate.)
        max_network_retries=0,
        http_client=DeadlineRequestsClient(),
    )


def _key(order_id, step):
    return {"idempotency_key": f"harbor-order-{order_id}-{step}"}


def create_customer(order):
    """The order's customer, with the shopper's PaymentMethod attached in the same call (so a
    card declined on attaching, e.g. pm_card_visa_chargeDeclined, raises CardError here)."""
    params = {"email": order.email, "payment_method": order.payment_method, "metadata": {"order_id": str(order.id)}}
    return client().v1.customers.create(params=params, options=_key(order.id, "customer"))


def attach_payment_method(order, customer_id):
    """Attach the shopper's PaymentMethod to the order's customer. Declines raise CardError."""
    return client().v1.payment_methods.attach(
        order.payment_method, params={"customer": customer_id}, options=_key(order.id, "attach")
    )


def create_intent(order, payment):
    params = {
        "amount": payment.amount,
        "currency": payment.currency,
        "customer": payment.customer_id,
        "payment_method": payment.payment_method_id,
        "payment_method_types": ["card"],
        "metadata": {"order_id": str(order.id)},
        "confirm": False,  # confirmed only after its id is saved
        # The card's fingerprint comes with the answer (card testing is counted per card),
        # without another call.
        "expand": ["payment_method"],
    }
    return client().v1.payment_intents.create(params=params, options=_key(order.id, "intent"))


def confirm_intent(order_id, intent_id):
    return client().v1.payment_intents.confirm(intent_id, options=_key(order_id, "confirm"))


def retrieve_intent(intent_id):
    return client().v1.payment_intents.retrieve(intent_id)


def cancel_intent(intent_id, order_id=None):
    options = _key(order_id, f"cancel-{intent_id}") if order_id else None
    return client().v1.payment_intents.cancel(intent_id, options=options)


def create_setup_intent():
    """A SetupIntent for the checkout page: Stripe.js confirms it with the shopper's card
    (confirmCardSetup), which yields the PaymentMethod the order is charged with later.
    No idempotency key: no money moves, and each card the shopper tries needs a fresh one."""
    return client().v1.setup_intents.create(params={"usage": "off_session", "payment_method_types": ["card"]})


def refunds_for_intent(intent_id):
    return list(client().v1.refunds.list(params={"payment_intent": intent_id, "limit": 100}).auto_paging_iter())


def charge_of_intent(intent_id):
    """The intent's charge as Stripe has it now (amount, amount_refunded), or None."""
    latest = retrieve_intent(intent_id).latest_charge
    if latest is None or not isinstance(latest, str):  # localstripe expands it; Stripe gives the id
        return latest
    return client().v1.charges.retrieve(latest)


def create_refund(order_id, intent_id, amount, request_id):
    """Refund `amount` of the intent's charge for Harbor's refund request `request_id`.

    The idempotency key names the request and the amount, so a retry of this very refund is
    the same call, while a second refund of the same order (or of another amount) is not.
    The request id also rides in the metadata: a run that died before recording the refund
    finds it among the intent's refunds (payments.refunds.sync), on a server ignoring keys too."""
    params = {"payment_intent": intent_id, "amount": amount,
              "metadata": {"order_id": str(order_id), "harbor_refund": str(request_id)}}
    return client().v1.refunds.create(params=params, options=_key(order_id, f"refund-{request_id}-{amount}"))
