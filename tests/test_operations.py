"""orders.operations and the developer commands that use them."""

import os
import time
from collections import defaultdict
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Stock
from harbor import failpoints
from harbor.locks import redis_client
from orders import operations
from orders.checkout import place_order
from orders.fulfillment import fulfill
from orders.models import Order, OrderEvent
from payments import gateway
from payments.audit import succeeded_charges_by_order
from payments.models import Payment
from tests.concurrency import run_concurrently
from tests.conftest import eventually, queued_tasks

pytestmark = pytest.mark.django_db(transaction=True)
ADDRESS = {"name": "A", "line1": "1 Road", "line2": "", "city": "C", "postal_code": "P", "country": "GB"}


@pytest.fixture
def order(product, broker):
    placed, _ = place_order(email="ops@example.com", lines=[{"product": product, "quantity": 3}],
                            payment_method="pm_card_visa", shipping_address=ADDRESS)
    broker.delete("payments")
    return placed


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_cancel_releases_stock_and_names_the_staff_user(order, product):
    operations.cancel(order, actor="ops-bob")

    order.refresh_from_db()
    assert order.status == "canceled"
    assert Stock.objects.get(product=product).available == 50
    assert OrderEvent.objects.get(order=order, to_status="canceled").actor == "ops-bob"


def test_cancel_of_an_order_with_a_payment_intent_is_queued_to_cancel_it_at_stripe_first(order, broker):
    Payment.objects.create(order=order, amount=order.total, currency="usd", payment_intent_id="pi_x")

    assert operations.cancel(order, actor="ops-bob").startswith("cancel queued")

    assert Order.objects.get(pk=order.pk).status == "pending"  # until Stripe says the intent is canceled
    assert queued_tasks(broker, "payments") == [("orders.tasks.cancel_order", [str(order.pk)])]


def test_cancel_is_refused_once_the_order_was_charged(order):
    Payment.objects.create(order=order, amount=order.total, currency="usd", payment_intent_id="pi_x",
                           status="succeeded")

    with pytest.raises(operations.OperationRefused, match="refund it instead"):
        operations.cancel(order, actor="ops-bob")
    assert Order.objects.get(pk=order.pk).status == "pending"


# Where fulfill_order's charge is when an ops cancel lands (a failpoint holds it there): what
# the cancel answers, where the charge leaves the order, and the order's intents at Stripe.
CANCEL_LANDS = {
    "charge.before_stripe": ("canceled, stock released", "canceled", ["canceled"]),
    "charge.before_save_intent": ("canceled, stock released", "canceled", ["canceled"]),
    "charge.before_confirm": ("cancel queued (the payment is canceled at Stripe first)", "paid", ["succeeded"]),
}


@pytest.mark.parametrize("point", CANCEL_LANDS)
def test_a_cancel_landing_at_each_step_of_a_charge_never_charges_a_canceled_order(point, product, broker,
                                                                                  settings):
    """Each side of the charge-versus-cancel race, forced in turn: the charge is held at a
    failpoint, the cancel runs, the charge goes on. Before the intent's id is saved, the
    cancel wins and the intent the charge made is canceled at Stripe; once it is saved, the
    cancel is queued (to cancel at Stripe first) and the charge wins."""
    cancel_says, final, intents = CANCEL_LANDS[point]
    settings.FAILPOINTS = True  # in this process: the charge runs here, in a thread
    order = place_order(email=f"race-{point}@example.com", lines=[{"product": product, "quantity": 3}],
                        payment_method="pm_card_visa", shipping_address=ADDRESS)[0]
    broker.delete("payments")
    failpoints.forget(redis_client(), point)
    failpoints.arm(redis_client(), point, order.id, "wait:30")

    def side(n):
        if n == 0:
            return fulfill(order.id)
        assert eventually(lambda: failpoints.hit_log(redis_client(), point), 20), "the charge never got there"
        try:
            return operations.cancel(Order.objects.get(pk=order.pk), actor="ops-bob")
        finally:
            failpoints.release(redis_client(), point)

    charged, cancel = run_concurrently(side, 2)

    assert failpoints.hit_log(redis_client(), point) == [(os.getpid(), str(order.id))]
    assert (cancel, charged) == (cancel_says, final)
    order.refresh_from_db()
    assert order.status == final
    assert intent_statuses_by_order()[str(order.id)] == intents
    assert succeeded_charges_by_order()[str(order.id)] == (1 if final == "paid" else 0)
    assert Stock.objects.get(product=product).available == (47 if final == "paid" else 50)
    if final == "paid":  # the queued cancel will find the charge and leave the order paid
        assert queued_tasks(broker, "payments") == [("orders.tasks.cancel_order", [str(order.id)])]


ROUNDS, STAGGER = 10, 0.004  # the cancel starts 0, 4, ..., 36 ms after the charge (about 30 ms on localstripe)


def test_a_charge_racing_a_cancel_never_charges_a_canceled_order(product, broker):
    """fulfill_order's charge and an ops cancel start together on each of 10 orders (the cancel a
    little later each round), unforced: whichever wins, a canceled order was never charged and
    has no confirmed intent; otherwise the order was charged once and is paid, and the cancel
    was refused or queued. (Each side is forced in turn by the test above.)"""
    orders = [place_order(email=f"race{i}@example.com", lines=[{"product": product, "quantity": 3}],
                          payment_method="pm_card_visa", shipping_address=ADDRESS)[0] for i in range(ROUNDS)]
    outcomes = []
    for round_, order in enumerate(orders):
        def side(n, order=order, delay=round_ * STAGGER):
            if n == 0:
                return fulfill(order.id)
            time.sleep(delay)
            try:
                return operations.cancel(Order.objects.get(pk=order.pk), actor="ops-bob")
            except operations.OperationRefused as exc:
                return exc

        outcomes.append(run_concurrently(side, 2))

    charges, intents = succeeded_charges_by_order(), intent_statuses_by_order()
    for order, (charged, cancel) in zip(orders, outcomes):
        order.refresh_from_db()
        assert not isinstance(charged, BaseException), charged
        if order.status == "canceled":
            assert (charged, cancel) == ("canceled", "canceled, stock released")
            assert not Payment.objects.filter(order=order, payment_intent_id__isnull=False).exists()
            assert charges[str(order.id)] == 0 and set(intents[str(order.id)]) <= {"canceled"}
        else:
            assert order.status == "paid" and charged == "paid"
            assert charges[str(order.id)] == 1 and intents[str(order.id)] == ["succeeded"]
            assert isinstance(cancel, operations.OperationRefused) or cancel.startswith("cancel queued"), cancel
    paid = sum(o.status == "paid" for o in Order.objects.filter(pk__in=[o.pk for o in orders]))
    assert Stock.objects.get(product=product).available == 50 - 3 * paid


def intent_statuses_by_order():
    """{order id: [status of each PaymentIntent made for it]}, as Stripe has them."""
    statuses = defaultdict(list)
    for intent in gateway.client().v1.payment_intents.list(params={"limit": 100}).auto_paging_iter():
        statuses[intent.metadata.to_dict().get("order_id")].append(intent.status)
    return statuses


def test_mark_reviewed_sends_an_unpaid_order_back_to_pending_with_a_fresh_budget(order, broker):
    Order.objects.filter(pk=order.pk).update(status="needs_review", attempts=20)

    operations.mark_reviewed(Order.objects.get(pk=order.pk), actor="ops-carol")

    order.refresh_from_db()
    assert (order.status, order.attempts) == ("pending", 0)
    assert OrderEvent.objects.get(order=order, from_status="needs_review").actor == "ops-carol"
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(order.id)])]


def test_fulfill_order_command_reenqueues_and_logs_an_event(order, broker):
    out = run("fulfill_order", str(order.id))

    assert f"fulfill_order enqueued for {order.id}" in out
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(order.id)])]
    assert OrderEvent.objects.filter(order=order, actor="manage.py fulfill_order").exists()


@pytest.mark.parametrize("bad_id", ["00000000-0000-4000-8000-000000000000", "not-a-uuid"])
def test_commands_name_an_unknown_order(bad_id):
    with pytest.raises(CommandError, match="no order with id"):
        run("fulfill_order", bad_id)


def test_refund_order_command_refuses_a_pending_order(order):
    with pytest.raises(CommandError, match="only charged orders can be refunded"):
        run("refund_order", str(order.id))


def test_reconcile_orders_command_prints_what_it_did(order, broker, settings):
    assert run("reconcile_orders") == "reconcile: nothing stuck\n"
    Order.objects.filter(pk=order.pk).update(updated_at=order.created_at.replace(year=2000))

    assert run("reconcile_orders") == "reconcile: fulfill_order: 1\n"
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(order.id)])]
