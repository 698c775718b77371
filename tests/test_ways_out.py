"""No state without an exit: every status an order can be left in is moved to a final one
by reconciliation or by an admin action, on a real worker and localstripe.

Each case builds the state the way the pipeline leaves it, then lets the exit happen and
checks the order ends final, charged at most once, with its stock accounted for."""

from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from orders.checkout import place_order
from orders.fulfillment import _still_pending, apply_payment
from orders.models import Order, OrderEvent
from orders.state import transition
from orders.stock import stock_drift
from payments.audit import succeeded_charges_by_order
from payments.charge import charge
from payments.models import Payment
from tests.conftest import wait_for_status
from tests.test_authentication import card, place_3ds_order

FINAL = ("fulfilled", "payment_failed", "canceled", "refunded")
ADDRESS = {"name": "A", "line1": "1 Road", "line2": "", "city": "C", "postal_code": "P", "country": "GB"}
CHANGELIST = "/admin/orders/order/"


def unsent(product, email, payment_method="pm_card_visa"):
    """A pending order whose fulfill_order message never reached the broker."""
    # The message is lost before it is sent: deleting it from the queue afterwards would race
    # the worker, which may already have taken it.
    with mock.patch("orders.checkout.enqueue_fulfillment") as enqueue:
        order, _ = place_order(email=email, lines=[{"product": product, "quantity": 2}],
                               payment_method=payment_method, shipping_address=ADDRESS)
    assert enqueue.called
    return order


def untouched_for(order, seconds):
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def reconcile_later(order):
    untouched_for(order, settings.RECONCILE_AFTER + 5)
    call_command("reconcile_orders")


def admin_action(client, action, order):
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [str(order.pk)]})
    assert response.status_code == 302


# --- Each case: (build the state) → (the exit) ------------------------------------------------

def pending_stuck(ctx):
    order = unsent(ctx.product, "stuck-pending@example.com")
    return order, lambda: reconcile_later(order)


def paid_stuck(ctx):
    order = unsent(ctx.product, "stuck-paid@example.com")
    apply_payment(order, charge(order, may_save_intent=lambda: _still_pending(order.pk)))  # paid; fan-out lost
    assert Order.objects.get(pk=order.pk).status == "paid"
    return order, lambda: reconcile_later(order)


def requires_action_abandoned(ctx):
    order = place_3ds_order(ctx.api, ctx.checkout_body, "3ds-gone@example.com")
    long_ago = timezone.now() - timedelta(seconds=settings.AUTHENTICATION_WINDOW + 60)
    OrderEvent.objects.filter(order=order, to_status="requires_action").update(created_at=long_ago)
    return order, lambda: reconcile_later(order)


def review_after_a_crash_loop(ctx):
    order = unsent(ctx.product, "crash-loop@example.com")
    transition(order.id, "pending", "needs_review", message="fulfill_order died 20 times")
    Order.objects.filter(pk=order.pk).update(attempts=settings.FULFILL_MAX_ATTEMPTS)
    return order, lambda: admin_action(ctx.admin, "mark_reviewed", order)


def review_with_stripe_refusing_our_key(ctx):
    order = unsent(ctx.product, "bad-key@example.com")
    Payment.objects.create(order=order, amount=order.total, currency="usd", last_error="authentication_error")
    transition(order.id, "pending", "needs_review", message="Stripe refused Harbor's request")
    return order, lambda: admin_action(ctx.admin, "mark_reviewed", order)  # the key is fixed: retry


def review_with_a_3ds_intent(ctx):
    """What the old code did with a 3-D Secure card: needs_review, the intent waiting at Stripe."""
    order = place_3ds_order(ctx.api, ctx.checkout_body, "old-3ds@example.com")
    transition(order.id, "requires_action", "needs_review", message="card needs 3-D Secure")
    return order, lambda: admin_action(ctx.admin, "cancel", order)


def review_after_the_charge(ctx):
    order = unsent(ctx.product, "charged-review@example.com")
    apply_payment(order, charge(order, may_save_intent=lambda: _still_pending(order.pk)))
    transition(order.id, "paid", "needs_review", message="a refund failed at Stripe")
    return order, lambda: admin_action(ctx.admin, "request_refund", order)


def review_with_a_declined_card(ctx):
    order = unsent(ctx.product, "declined-review@example.com", payment_method=card("4000000000000341"))
    Payment.objects.create(order=order, amount=order.total, currency="usd", status="failed")
    transition(order.id, "pending", "needs_review", message="declined, then a webhook disagreed")
    return order, lambda: admin_action(ctx.admin, "cancel", order)


def fulfilled_then_refunded(ctx):
    response = ctx.api.post("/api/orders/", ctx.checkout_body(email="refund-me@example.com"), format="json")
    order = wait_for_status(response.json()["id"], FINAL)
    assert order.status == "fulfilled"
    return order, lambda: admin_action(ctx.admin, "request_refund", order)


CASES = {
    pending_stuck: "fulfilled", paid_stuck: "fulfilled", requires_action_abandoned: "canceled",
    review_after_a_crash_loop: "fulfilled", review_with_stripe_refusing_our_key: "fulfilled",
    review_with_a_3ds_intent: "canceled", review_after_the_charge: "refunded",
    review_with_a_declined_card: "canceled", fulfilled_then_refunded: "refunded",
}


class Ctx:
    def __init__(self, **kw):
        self.__dict__.update(kw)


@pytest.mark.parametrize("build,final", CASES.items(), ids=[f.__name__ for f in CASES])
def test_every_order_state_has_a_way_out(build, final, worker, api, product, checkout_body, admin_client):
    order, way_out = build(Ctx(api=api, product=product, checkout_body=checkout_body, admin=admin_client))

    way_out()

    assert wait_for_status(order.pk, (final,), timeout=45).status == final
    assert succeeded_charges_by_order()[str(order.pk)] == (1 if final in ("fulfilled", "refunded") else 0)
    assert stock_drift() == {}
