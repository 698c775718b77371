"""No state without an exit: every status an order can be left in is moved to a final one
by reconciliation or by an admin action, on a real worker and localstripe.

Each case builds the state the way the pipeline leaves it, then lets the exit happen and
checks the order ends final, charged at most once, with its stock accounted for."""

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from notifications.models import Notification
from orders.checkout import place_order
from orders.fulfillment import _still_pending, apply_payment
from orders.models import Order, OrderEvent
from orders.state import transition
from orders.stock import stock_drift
from payments.audit import succeeded_charges_by_order
from payments.charge import charge
from payments.models import Payment
from tests.conftest import label_files, wait_for_status
from tests.realworker import wait_until_idle
from tests.test_authentication import card, place_3ds_order

FINAL = ("fulfilled", "payment_failed", "canceled", "refunded")
ADDRESS = {"name": "A", "line1": "1 Road", "line2": "", "city": "C", "postal_code": "P", "country": "GB"}
CHANGELIST = "/admin/orders/order/"


def unsent(product, email, payment_method="pm_card_visa"):
    """A pending order whose fulfill_order message never reached the broker: checkout's
    publish is suppressed in this process, and the worker is shown to have nothing to do."""
    with mock.patch("orders.checkout.enqueue_fulfillment") as publish:
        order, _ = place_order(email=email, lines=[{"product": product, "quantity": 2}],
                               payment_method=payment_method, shipping_address=ADDRESS)
    publish.assert_called_once_with(order.id)  # the one publish there was, swallowed
    assert wait_until_idle(timeout=10)  # nothing queued, nothing running
    assert Order.objects.get(pk=order.pk).status == "pending" and not Payment.objects.filter(order=order).exists()
    return order


def moved(order, from_status, to_status, message):
    assert transition(order.id, from_status, to_status, message=message), f"{order.pk}: {from_status} → {to_status}"


def untouched_for(order, seconds):
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def reconcile_later(order, did):
    """Reconciliation, once the order has been left alone long enough: it must say it did `did`."""
    untouched_for(order, settings.RECONCILE_AFTER + 5)
    out = StringIO()
    call_command("reconcile_orders", stdout=out)
    assert out.getvalue().splitlines() == [f"reconcile: {action}: 1" for action in did], out.getvalue()


def admin_action(client, action, order, outcome):
    """An order action in the admin; it must report `outcome` for the order (a refused action
    redirects with 302 too, with a "refused" message)."""
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [str(order.pk)]}, follow=True)
    assert response.redirect_chain and response.redirect_chain[0][1] == 302
    assert [str(m) for m in response.context["messages"]] == [f"Order {order.pk}: {outcome}."]


# --- Each case: (build the state) → (the exit) ------------------------------------------------

def pending_stuck(ctx):
    order = unsent(ctx.product, "stuck-pending@example.com")
    return order, lambda: reconcile_later(order, ["fulfill_order"])


def paid_stuck(ctx):
    order = unsent(ctx.product, "stuck-paid@example.com")
    # Paid; the fan-out lost, and the order.paid event's publish (the receipt's) swallowed too.
    with mock.patch("orders.outbox.dispatch") as publish:
        apply_payment(order, charge(order, may_save_intent=lambda: _still_pending(order.pk)))
    assert publish.call_count == 1
    assert wait_until_idle(timeout=10) and Order.objects.get(pk=order.pk).status == "paid"
    assert label_files(order.pk) == [] and not Notification.objects.filter(order=order).exists()
    return order, lambda: reconcile_later(order, ["create_label", "receipt"])


def requires_action_abandoned(ctx):
    order = place_3ds_order(ctx.api, ctx.checkout_body, "3ds-gone@example.com")
    long_ago = timezone.now() - timedelta(seconds=settings.AUTHENTICATION_WINDOW + 60)
    OrderEvent.objects.filter(order=order, to_status="requires_action").update(created_at=long_ago)
    return order, lambda: reconcile_later(order, ["cancel_order"])


def review_after_a_crash_loop(ctx):
    order = unsent(ctx.product, "crash-loop@example.com")
    moved(order, "pending", "needs_review", "fulfill_order died 20 times")
    Order.objects.filter(pk=order.pk).update(attempts=settings.FULFILL_MAX_ATTEMPTS)
    return order, lambda: admin_action(ctx.admin, "mark_reviewed", order,
                                       "sent back to pending, fulfillment re-enqueued")


def review_with_stripe_refusing_our_key(ctx):
    order = unsent(ctx.product, "bad-key@example.com")
    Payment.objects.create(order=order, amount=order.total, currency="usd", last_error="authentication_error")
    moved(order, "pending", "needs_review", "Stripe refused Harbor's request")
    return order, lambda: admin_action(ctx.admin, "mark_reviewed", order,  # the key is fixed: retry
                                       "sent back to pending, fulfillment re-enqueued")


def review_with_a_3ds_intent(ctx):
    """What the old code did with a 3-D Secure card: needs_review, the intent waiting at Stripe."""
    order = place_3ds_order(ctx.api, ctx.checkout_body, "old-3ds@example.com")
    moved(order, "requires_action", "needs_review", "card needs 3-D Secure")
    return order, lambda: admin_action(ctx.admin, "cancel", order,
                                       "cancel queued (the payment is canceled at Stripe first)")


def review_after_the_charge(ctx):
    order = unsent(ctx.product, "charged-review@example.com")
    apply_payment(order, charge(order, may_save_intent=lambda: _still_pending(order.pk)))
    moved(order, "paid", "needs_review", "a refund failed at Stripe")
    return order, lambda: admin_action(ctx.admin, "request_refund", order, "refund queued")


def review_with_a_declined_card(ctx):
    order = unsent(ctx.product, "declined-review@example.com", payment_method=card("4000000000000341"))
    Payment.objects.create(order=order, amount=order.total, currency="usd", status="failed")
    moved(order, "pending", "needs_review", "declined, then a webhook disagreed")
    return order, lambda: admin_action(ctx.admin, "cancel", order, "canceled, stock released")


def fulfilled_then_refunded(ctx):
    response = ctx.api.post("/api/orders/", ctx.checkout_body(email="refund-me@example.com"), format="json")
    order = wait_for_status(response.json()["id"], FINAL)
    assert order.status == "fulfilled"
    return order, lambda: admin_action(ctx.admin, "request_refund", order, "refund queued")


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
