"""orders/ops.py figures, the admin index panel, harbor_status and create_ops_user, the ops group."""

import json
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_celery_results.models import TaskResult

from orders import ops
from harbor.celery import app as celery_app
from orders.models import Order
from orders.ops_group import GROUP_NAME, permission_names

pytestmark = pytest.mark.django_db

PASSWORD = "harbour-lights-2718"


def make_order(status, updated_ago=0, created_ago=0):
    order = Order.objects.create(email="shopper@example.com", shipping_address={}, payment_method="pm_card_visa",
                                 total=1800, currency="usd", status=status)
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(updated_at=now - timedelta(seconds=updated_ago),
                                             created_at=now - timedelta(seconds=created_ago))
    return order


@pytest.fixture
def known_shop(broker, settings):
    """Today: 2 pending (the older one stuck), 1 paid, 1 fulfilled, 1 needs_review; 2 messages waiting on
    payments and 1 on notifications; 2 task failures in the last hour (plus one older, one success)."""
    now = timezone.now()
    # Within today whatever the time of day, so "orders today" counts it.
    age = min(1800, int((now - ops.start_of_day(now)).total_seconds()) // 2)
    stuck = make_order("pending", updated_ago=settings.RECONCILE_AFTER + 60, created_ago=age)
    make_order("pending")
    make_order("paid")
    make_order("fulfilled", updated_ago=settings.RECONCILE_AFTER + 60)  # final: not stuck
    make_order("needs_review", updated_ago=settings.RECONCILE_AFTER + 60)
    broker.rpush("payments", "m1", "m2")
    broker.rpush("notifications", "m3")
    for n, (status, ago) in enumerate([("FAILURE", 600), ("FAILURE", 3000), ("FAILURE", 7200), ("SUCCESS", 60)]):
        TaskResult.objects.create(task_id=f"task-{n}", task_name="orders.tasks.fulfill_order", status=status)
        TaskResult.objects.filter(task_id=f"task-{n}").update(date_done=now - timedelta(seconds=ago))
    return {"oldest_age": age, "stuck": stuck}


EXPECTED_TODAY = {"pending": 2, "requires_action": 0, "paid": 1, "fulfilled": 1, "payment_failed": 0, "canceled": 0, "refunded": 0,
                  "needs_review": 1}


def test_gather_counts_a_known_shop(known_shop):
    figures = ops.gather()

    assert figures["orders_today"] == EXPECTED_TODAY
    assert figures["stuck_orders"] == 1
    assert figures["oldest_pending_order"] == str(known_shop["stuck"].pk)
    assert known_shop["oldest_age"] <= figures["oldest_pending_age_seconds"] <= known_shop["oldest_age"] + 60
    assert figures["queues"] == {"payments": 2, "fulfillment": 0, "notifications": 1, "webhooks": 0}
    assert figures["task_failures_last_hour"] == 2
    assert isinstance(figures["workers_alive"], int)  # no worker runs here: ping answers with nobody
    assert figures["errors"] == {}


def test_workers_alive_counts_the_ping_replies(db, broker, monkeypatch):
    replies = [{"payments@host": {"ok": "pong"}}, {"notifications@host": {"ok": "pong"}}]
    monkeypatch.setattr(celery_app.control, "ping", lambda timeout: replies)
    figures = ops.gather()
    assert (figures["workers_alive"], figures["workers"]) == (2, ["notifications@host", "payments@host"])


@pytest.fixture
def dead_broker(monkeypatch):
    real = celery_app.connection_for_read
    monkeypatch.setattr(celery_app, "connection_for_read", lambda *a, **kw: real("redis://127.0.0.1:1/0"))


def test_an_unreachable_broker_leaves_the_other_figures(known_shop, dead_broker):
    figures = ops.gather()
    assert figures["queues"] is None and figures["workers_alive"] is None
    assert set(figures["errors"]) == {"queues", "workers"}
    assert figures["orders_today"] == EXPECTED_TODAY and figures["task_failures_last_hour"] == 2


def test_harbor_status_prints_the_figures(known_shop):
    out = StringIO()
    call_command("harbor_status", stdout=out)
    text = out.getvalue()
    assert "Queue depth:     payments 2, fulfillment 0, notifications 1, webhooks 0" in text
    assert "Workers alive:   " in text
    assert ("pending 2, requires_action 0, paid 1, fulfilled 1, payment_failed 0, canceled 0, refunded 0, "
            "needs_review 1") in text
    assert re.search(r"Stuck orders: +1 \(", text)
    assert f"(order {known_shop['stuck'].pk})" in text
    assert "Task failures, last hour: 2" in text


def test_harbor_status_json(known_shop):
    out = StringIO()
    call_command("harbor_status", "--json", stdout=out)
    figures = json.loads(out.getvalue())
    assert {"queues", "workers_alive", "workers", "orders_today", "stuck_orders", "oldest_pending_age_seconds",
            "task_failures_last_hour", "errors"} <= set(figures)
    assert figures["queues"] == {"payments": 2, "fulfillment": 0, "notifications": 1, "webhooks": 0}
    assert figures["orders_today"] == EXPECTED_TODAY
    assert figures["stuck_orders"] == 1
    assert figures["task_failures_last_hour"] == 2


def test_harbor_status_says_unavailable_when_the_broker_is_down(known_shop, dead_broker):
    out, err = StringIO(), StringIO()
    call_command("harbor_status", stdout=out, stderr=err)
    assert "Queue depth:     unavailable" in out.getvalue()
    assert "Workers alive:   unavailable" in out.getvalue()
    assert "queues unavailable" in err.getvalue()


def panel_cell(html, cell_id):
    match = re.search(rf'<td id="{cell_id}">(.*?)</td>', html, re.S)
    assert match, cell_id
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("&nbsp;", " ")


def test_the_admin_index_shows_the_panel(admin_client, known_shop):
    html = admin_client.get("/admin/").content.decode()

    assert 'id="harbor-ops-panel"' in html
    assert "pending 2 · requires_action 0 · paid 1 · fulfilled 1" in panel_cell(html, "ops-orders-today")
    assert "needs_review 1" in panel_cell(html, "ops-orders-today")
    # One list, kept on one line (the panel scrolls sideways on a narrow screen instead).
    assert re.search(r'<td id="ops-orders-today"><ul class="ops-counts">(<li>.*?</li>){8}</ul></td>', html)
    assert re.search(r"ul\.ops-counts \{[^}]*white-space: nowrap", html)
    assert panel_cell(html, "ops-stuck").startswith("1 ")
    assert panel_cell(html, "ops-oldest-pending") in {ops.format_age(known_shop["oldest_age"] + d) for d in range(60)}
    assert panel_cell(html, "ops-queues") == "payments 2 · fulfillment 0 · notifications 1 · webhooks 0"
    assert panel_cell(html, "ops-workers").split()[0].isdigit()
    assert panel_cell(html, "ops-failures") == "2"
    pending_today = re.search(r'<a href="([^"]+)">pending</a>', html).group(1).replace("&amp;", "&")
    assert len(admin_client.get(pending_today).context["cl"].result_list) == 2


def test_the_admin_index_survives_an_unreachable_broker(admin_client, known_shop, dead_broker):
    response = admin_client.get("/admin/")
    html = response.content.decode()
    assert response.status_code == 200
    assert panel_cell(html, "ops-queues") == ("payments unavailable · fulfillment unavailable · notifications unavailable · "
                                                  "webhooks unavailable")
    assert panel_cell(html, "ops-workers") == "unavailable"
    assert panel_cell(html, "ops-failures") == "2"


def test_format_age():
    assert [ops.format_age(s) for s in (None, 59, 61, 3725, 90000)] == ["–", "59s", "1m 1s", "1h 2m", "1d 1h"]


def test_the_migrated_ops_group_has_exactly_the_ops_permissions(db):
    group = Group.objects.get(name=GROUP_NAME)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert granted == permission_names()
    assert not {"auth.change_user", "auth.change_group", "catalog.change_product", "orders.change_order"} & granted


def test_create_ops_user_makes_a_staff_user_in_the_ops_group_and_ensures_the_group(db):
    Group.objects.filter(name=GROUP_NAME).delete()
    out = StringIO()

    call_command("create_ops_user", "olive", "--email", "olive@example.com", "--password", PASSWORD, stdout=out)

    assert "created staff user 'olive' in group 'ops'" in out.getvalue()
    user = User.objects.get(username="olive")
    assert user.is_staff and not user.is_superuser and user.email == "olive@example.com"
    assert user.check_password(PASSWORD)
    assert user.groups.filter(name=GROUP_NAME).exists()
    assert user.get_all_permissions() == permission_names()


def test_create_ops_user_takes_the_password_from_the_environment_and_updates_an_existing_user(db, monkeypatch):
    User.objects.create_user("oscar", password="old-password-1618")
    monkeypatch.setenv("DJANGO_OPS_PASSWORD", PASSWORD)
    out = StringIO()

    call_command("create_ops_user", "oscar", "--no-input", stdout=out)

    assert "updated staff user 'oscar'" in out.getvalue()
    user = User.objects.get(username="oscar")
    assert user.is_staff and user.check_password(PASSWORD) and user.has_perm("orders.cancel_order")


def test_create_ops_user_without_a_password_and_no_input_gets_an_unusable_one(db, monkeypatch):
    monkeypatch.delenv("DJANGO_OPS_PASSWORD", raising=False)
    out = StringIO()
    call_command("create_ops_user", "otto", "--no-input", stdout=out)
    assert not User.objects.get(username="otto").has_usable_password()
    assert "changepassword otto" in out.getvalue()


def test_create_ops_user_refuses_a_weak_password(db):
    with pytest.raises(CommandError, match="Password refused"):
        call_command("create_ops_user", "weak", "--password", "123", stdout=StringIO())
    assert not User.objects.filter(username="weak").exists()


def test_the_panel_shows_the_stock_held_by_orders_awaiting_payment(admin_client, db, broker):
    from orders.models import OrderLine
    from tests.factories import ProductFactory

    mug = ProductFactory(sku="MUG-001")
    for status, quantity, released in [("pending", 3, False), ("requires_action", 2, False), ("paid", 7, False),
                                       ("canceled", 4, True)]:
        order = make_order(status)
        Order.objects.filter(pk=order.pk).update(stock_released=released)
        OrderLine.objects.create(order=order, product=mug, sku="MUG-001", quantity=quantity, unit_price=1800)

    figures = ops.gather()
    html = admin_client.get("/admin/").content.decode()

    assert (figures["stock_held_by_unpaid"], figures["unpaid_orders"]) == (5, 2)
    assert panel_cell(html, "ops-unpaid-stock").startswith("5 units in 2 orders")
    unpaid = re.search(r'<td id="ops-unpaid-stock">.*?<a href="([^"]+)">', html, re.S).group(1).replace("&amp;", "&")
    assert {o.status for o in admin_client.get(unpaid).context["cl"].result_list} == {"pending", "requires_action"}
