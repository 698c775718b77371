"""orders.reconcile: stuck orders are pushed on; fresh and finished ones are left alone."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from orders.stock import stock_drift
from inventory.models import Stock
from notifications.models import Notification
from orders import outbox
from orders.models import Order, OrderEvent, OrderLine, OutboxEvent, Shipment
from orders.reconcile import reconcile
from orders.state import transition
from tests.conftest import queued_tasks
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def make_order(status="pending", age_seconds=600, attempts=0):
    order = Order.objects.create(email="stuck@example.com", shipping_address={}, payment_method="pm_card_visa",
                                 total=1800, currency="usd", status=status, attempts=attempts)
    Order.objects.filter(pk=order.pk).update(updated_at=timezone.now() - timedelta(seconds=age_seconds))
    return order


def test_a_stuck_pending_order_is_sent_to_fulfill_order_again(broker):
    order = make_order()

    assert reconcile() == {"fulfill_order": 1}

    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(order.pk)])]


def test_a_fresh_order_is_left_alone_and_a_second_run_does_not_repeat(broker):
    make_order(age_seconds=5)
    make_order()

    assert reconcile() == {"fulfill_order": 1}
    assert reconcile() == {}  # the first run bumped updated_at: it waits another RECONCILE_AFTER
    assert len(queued_tasks(broker, "payments")) == 1


def test_a_paid_order_gets_only_its_missing_fan_out_task(broker):
    labelled = make_order(status="paid")
    Shipment.objects.create(order=labelled, tracking_number="HB1", label="labels/x.pdf")
    receipted = make_order(status="paid")
    Notification.objects.create(order=receipted, kind="receipt", to="a@b.c", sent_at=timezone.now())

    assert reconcile() == {"receipt": 1, "create_label": 1}

    # The receipt is the e-mail's answer to order.paid: that event goes to its consumers again
    # (here made now: the order was paid before it had one).
    paid = OutboxEvent.objects.get(order=labelled, type="order.paid")
    assert queued_tasks(broker, "notifications") == [("notifications.tasks.on_event", [str(paid.pk)])]
    assert queued_tasks(broker, "fulfillment") == [("orders.tasks.create_label", [str(receipted.pk)])]


def test_past_the_attempt_cap_the_order_goes_to_review_with_a_reason(broker, settings):
    order = make_order(attempts=settings.FULFILL_MAX_ATTEMPTS)

    assert reconcile() == {"needs_review": 1}

    order.refresh_from_db()
    assert order.status == "needs_review"
    assert "gave up" in OrderEvent.objects.get(order=order).message
    assert queued_tasks(broker, "payments") == []


def test_setup_periodic_tasks_is_idempotent_and_configurable():
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks", reconcile_interval=60)

    tasks = {t.task: t for t in PeriodicTask.objects.all()}
    assert set(tasks) == {"orders.tasks.reconcile_stuck_orders", "celery.backend_cleanup", "orders.tasks.audit_stock",
                          "orders.tasks.forget_idempotency_keys", "webhooks.tasks.deliver_due"}
    assert [t.name for t in PeriodicTask.objects.all()].count("Deliver due webhooks") == 1  # once, not per run
    assert tasks["orders.tasks.reconcile_stuck_orders"].interval.every == 60
    assert tasks["orders.tasks.audit_stock"].crontab.hour == "3"


def test_stock_audit_reports_drift_per_warehouse_without_fixing_it():
    from inventory.models import Allocation
    from tests.factories import StockFactory, WarehouseFactory

    product = ProductFactory(sku="AUD-1", stock__available=10)
    other = StockFactory(product=product, warehouse=WarehouseFactory(code="newark"), available=5).warehouse
    order = make_order(status="fulfilled")
    OrderLine.objects.create(order=order, product=product, sku="AUD-1", quantity=5, unit_price=100)
    main = Stock.objects.get(product=product, warehouse__code="main").warehouse
    Allocation.objects.create(order_id=order.pk, product=product, warehouse=main, quantity=3)
    Allocation.objects.create(order_id=order.pk, product=product, warehouse=other, quantity=2)  # a split line
    Stock.objects.filter(product=product, warehouse=main).update(available=7)
    Stock.objects.filter(product=product, warehouse=other).update(available=3)
    assert stock_drift() == {}

    Stock.objects.filter(product=product, warehouse=main).update(available=9)  # someone edited stock by hand

    assert stock_drift() == {"AUD-1@main": {"available": 9, "expected": 7, "drift": 2}}
    assert Stock.objects.get(product=product, warehouse=main).available == 9  # reported, not "fixed"


def test_a_refund_requested_but_never_done_is_sent_again(broker, settings):
    from payments.models import Payment, Refund

    order = make_order(status="fulfilled")
    payment = Payment.objects.create(order=order, amount=1800, currency="usd", payment_intent_id="pi_r",
                                     status="succeeded")
    refund = Refund.objects.create(payment=payment, requested_by="ops")
    Refund.objects.filter(pk=refund.pk).update(updated_at=timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER + 5))

    assert reconcile() == {"refund_order": 1}
    assert reconcile() == {}  # the request's clock restarted: not again until RECONCILE_AFTER

    assert queued_tasks(broker, "payments") == [("orders.tasks.refund_order", [str(order.pk)])]


def test_an_unsent_payment_failed_email_is_sent_again_until_it_is(broker, settings):
    """The e-mail learns of the failure from the order's event; an event its consumer has not
    handled (the task was lost with the broker, or ran out of retries) is sent again."""
    failed, told = make_order(), make_order()
    for order in (failed, told):
        assert transition(order.pk, "pending", "payment_failed")
    broker.delete("notifications")  # both messages lost
    outbox.handled(OutboxEvent.objects.get(order=told).pk, "notifications.tasks.on_event")  # this one was sent
    OutboxEvent.objects.update(dispatched_at=timezone.now() - timedelta(seconds=settings.RECONCILE_AFTER + 1))
    Order.objects.update(updated_at=timezone.now())

    assert reconcile() == {"outbox_events": 1}
    event = OutboxEvent.objects.get(order=failed)
    assert queued_tasks(broker, "notifications") == [("notifications.tasks.on_event", [str(event.pk)])]
    assert reconcile() == {}  # not again before RECONCILE_AFTER
