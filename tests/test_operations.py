"""orders.operations and the developer commands that use them."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Stock
from orders import operations
from orders.checkout import place_order
from orders.models import Order, OrderEvent
from payments import gateway
from payments.charge import charge
from payments.models import Payment
from tests.conftest import queued_tasks

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


def test_cancel_is_refused_once_a_payment_intent_exists(order):
    Payment.objects.create(order=order, amount=order.total, currency="usd", payment_intent_id="pi_x")

    with pytest.raises(operations.OperationRefused, match="under way"):
        operations.cancel(order, actor="ops-bob")
    assert Order.objects.get(pk=order.pk).status == "pending"


def test_a_charge_racing_a_cancel_never_confirms_an_intent(order):
    operations.cancel(order, actor="ops-bob")  # canceled while fulfill_order was on its way

    result = charge(order)

    assert result.status == "failed" and "canceled" in result.message
    payment = Payment.objects.get(order=order)
    assert payment.payment_intent_id is None
    intents = gateway.client().v1.payment_intents.list(params={"limit": 100}).data
    mine = [i for i in intents if i.metadata.to_dict().get("order_id") == str(order.id)]
    assert [i.status for i in mine] == ["canceled"]  # created, then canceled: never confirmed


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
    with pytest.raises(CommandError, match="only paid or fulfilled"):
        run("refund_order", str(order.id))


def test_reconcile_orders_command_prints_what_it_did(order, broker, settings):
    assert run("reconcile_orders") == "reconcile: nothing stuck\n"
    Order.objects.filter(pk=order.pk).update(updated_at=order.created_at.replace(year=2000))

    assert run("reconcile_orders") == "reconcile: fulfill_order: 1\n"
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(order.id)])]
