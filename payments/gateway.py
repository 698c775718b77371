"""The Stripe gateway wrapper: every call Harbor makes to Stripe goes through here.

Every write carries an idempotency key derived from the order, so a retried call is the
same call to real Stripe. localstripe ignores those keys, which is why the charge
service also persists each object id before using it and re-reads Stripe on retry.
"""

from functools import cache

import stripe
from django.conf import settings

# Failures worth retrying: the request may not have happened, or may succeed later.
TRANSIENT_ERRORS = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@cache
def client():
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None,
        # No hidden retries: Celery retries, after looking at what Stripe already has.
        # (stripe-python's own retries re-send creates that localstripe would duplicate.)
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT),
    )


def _key(order_id, step):
    return {"idempotency_key": f"harbor-order-{order_id}-{step}"}


def create_customer(order):
    params = {"email": order.email, "metadata": {"order_id": str(order.id)}}
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
    }
    return client().v1.payment_intents.create(params=params, options=_key(order.id, "intent"))


def confirm_intent(order_id, intent_id):
    return client().v1.payment_intents.confirm(intent_id, options=_key(order_id, "confirm"))


def retrieve_intent(intent_id):
    return client().v1.payment_intents.retrieve(intent_id)


def cancel_intent(intent_id):
    return client().v1.payment_intents.cancel(intent_id)


def refunds_for_intent(intent_id):
    return list(client().v1.refunds.list(params={"payment_intent": intent_id, "limit": 10}).data)


def create_refund(order_id, intent_id):
    return client().v1.refunds.create(params={"payment_intent": intent_id, "metadata": {"order_id": str(order_id)}},
                                      options=_key(order_id, "refund"))
