"""The order admin for ops: actions (effect, event naming the staff user, permissions), access rules."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_results.models import TaskResult

from inventory.models import Stock
from notifications.models import Notification
from orders.models import Order, OrderEvent, OrderLine, Shipment
from payments.models import Payment
from tests.conftest import queued_tasks
from tests.factories import ProductFactory, order_line

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"


def make_order(status="pending", product=None, quantity=2, **fields):
    fields.setdefault("shipping_address", {"name": "Ada"})
    order = Order.objects.create(email="shopper@example.com", payment_method="pm_card_visa", total=3600,
                                 currency="usd", status=status, **fields)
    if product:
        order_line(order, product, quantity)
    return order


@pytest.fixture
def ops_user(db):
    user = User.objects.create_user("opsie", "ops@example.com", "not-a-secret-3141")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name="ops"))  # the group from migration orders/0005_ops_group
    return user


@pytest.fixture
def ops_client(client, ops_user):
    client.force_login(ops_user)
    return client


def run_action(client, action, *orders):
    response = client.post(CHANGELIST, {"action": action, "_selected_action": [str(o.pk) for o in orders]})
    assert response.status_code == 302, response.content[:500]
    return [str(m) for m in get_messages(response.wsgi_request)]


def staff_events(order):
    return list(OrderEvent.objects.filter(order=order, actor="opsie").values_list("from_status", "to_status",
                                                                                  "message"))


def test_retry_fulfillment_enqueues_fulfill_order_and_names_the_staff_user(ops_client, broker,
                                                                           django_capture_on_commit_callbacks):
    order = make_order("pending")

    with django_capture_on_commit_callbacks(execute=True):
        msgs = run_action(ops_client, "retry_fulfillment", order)

    assert msgs == [f"Order {order.pk}: fulfillment re-enqueued."]
    assert staff_events(order) == [("", "", "Fulfillment re-enqueued.")]
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(order.pk)])]


def test_an_action_refuses_an_order_in_the_wrong_state_with_the_reason(ops_client, broker,
                                                                        django_capture_on_commit_callbacks):
    done, refused = make_order("pending"), make_order("canceled")

    with django_capture_on_commit_callbacks(execute=True):
        msgs = run_action(ops_client, "retry_fulfillment", done, refused)

    assert f"Order {refused.pk}: refused: only pending, requires_action or paid orders are fulfilled; this one is canceled." in msgs
    assert f"Order {done.pk}: fulfillment re-enqueued." in msgs
    assert staff_events(refused) == []
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(done.pk)])]


def test_cancel_cancels_a_pending_order_and_releases_its_stock(ops_client):
    product = ProductFactory(sku="CANCEL-1", stock__available=48, stock__received=50)
    order = make_order("pending", product=product, quantity=2)

    msgs = run_action(ops_client, "cancel", order)

    assert msgs == [f"Order {order.pk}: canceled, stock released."]
    order.refresh_from_db()
    assert order.status == "canceled"
    assert Stock.objects.get(product=product).available == 50
    assert staff_events(order) == [("pending", "canceled", "Canceled by staff.")]


def test_cancel_is_refused_for_a_paid_order(ops_client):
    order = make_order("paid")

    msgs = run_action(ops_client, "cancel", order)

    assert msgs == [f"Order {order.pk}: refused: only pending, requires_action or needs_review orders can be canceled; this one is paid."]
    order.refresh_from_db()
    assert order.status == "paid"


def test_refund_queues_the_refund_task(ops_client, broker, django_capture_on_commit_callbacks):
    from payments.models import Payment

    order = make_order("fulfilled")
    Payment.objects.create(order=order, amount=3600, currency="usd", payment_intent_id="pi_x", status="succeeded")

    with django_capture_on_commit_callbacks(execute=True):
        msgs = run_action(ops_client, "request_refund", order)

    assert msgs == [f"Order {order.pk}: refund queued."]
    assert staff_events(order) == [("", "", "Refund of everything left requested.")]
    assert queued_tasks(broker, "payments") == [("orders.tasks.refund_order", [str(order.pk)])]


def test_mark_reviewed_sends_an_uncharged_order_back_to_pending(ops_client, broker,
                                                                 django_capture_on_commit_callbacks):
    order = make_order("needs_review", attempts=20)

    with django_capture_on_commit_callbacks(execute=True):
        msgs = run_action(ops_client, "mark_reviewed", order)

    assert msgs == [f"Order {order.pk}: sent back to pending, fulfillment re-enqueued."]
    order.refresh_from_db()
    assert (order.status, order.attempts) == ("pending", 0)
    assert staff_events(order) == [("needs_review", "pending", "Retried by staff.")]
    assert queued_tasks(broker, "payments") == [("orders.tasks.fulfill_order", [str(order.pk)])]


def test_staff_without_the_permissions_neither_sees_nor_runs_the_actions(client, broker):
    clerk = User.objects.create_user("clerk", password="not-a-secret-3141", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(clerk)
    order = make_order("pending")

    page = client.get(CHANGELIST)
    assert page.status_code == 200 and str(order.pk) in page.content.decode()
    assert page.context["action_form"] is None or not page.context["action_form"].fields["action"].choices[1:]
    client.post(CHANGELIST, {"action": "cancel", "_selected_action": [str(order.pk)]})

    order.refresh_from_db()
    assert order.status == "pending"
    assert not OrderEvent.objects.filter(order=order).exists()


def test_the_ops_group_gets_all_four_actions(ops_client):
    make_order()
    choices = dict(ops_client.get(CHANGELIST).context["action_form"].fields["action"].choices)
    assert {"retry_fulfillment", "cancel", "request_refund", "mark_reviewed"} <= set(choices)


def test_order_list_search_and_read_only_change_page(ops_client):
    product = ProductFactory(sku="MUG-9")
    order = make_order("paid", product=product)
    other = make_order("pending")
    Payment.objects.create(order=order, amount=3600, currency="usd", status="succeeded",
                           payment_intent_id="pi_findme123")
    Shipment.objects.create(order=order, tracking_number="HBTRACK77")
    Notification.objects.create(order=order, kind="receipt", to="shopper@example.com", sent_at=timezone.now())
    OrderEvent.objects.create(order=order, from_status="pending", to_status="paid", actor="fulfill_order")
    TaskResult.objects.create(task_id="t-1", task_name="orders.tasks.fulfill_order", status="SUCCESS",
                              task_args=f"\"['{order.pk}']\"")

    listing = ops_client.get(CHANGELIST).content.decode()
    assert "$36.00" in listing and "shopper@example.com" in listing
    for term in ["pi_findme123", "HBTRACK77", str(order.pk)[:13]]:
        found = ops_client.get(CHANGELIST, {"q": term}).context["cl"].result_list
        assert list(found) == [order], term
    assert list(ops_client.get(CHANGELIST, {"status__exact": "pending"}).context["cl"].result_list) == [other]

    page = ops_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    for shown in ["pi_findme123", "HBTRACK77", "receipt", "fulfill_order", "MUG-9", "$18.00", "$36.00"]:
        assert shown in page, shown
    assert 'name="_save"' not in page  # read-only: status and money change only through actions
    results_url = f"/admin/django_celery_results/taskresult/?q={order.pk}"
    assert f'href="{results_url}">1 task result for this order' in page
    results = ops_client.get(results_url)
    assert [r.task_id for r in results.context["cl"].result_list] == ["t-1"]


def test_the_order_page_shows_the_address_as_lines_and_titles_rows_by_what_they_are(ops_client):
    address = {"name": "Ada Lovelace", "line1": "1 Main St", "line2": "", "city": "Portland", "region": "OR",
               "postal_code": "97201", "country": "US"}
    order = make_order("pending", product=ProductFactory(sku="MUG-9"), shipping_address=address)

    page = ops_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()

    assert "Ada Lovelace<br>1 Main St<br>Portland, OR 97201<br>United States" in page
    assert "{&#x27;" not in page and "&#x27;city&#x27;" not in page  # not the JSON dict
    assert "2 × MUG-9" in page  # the line's row title
    assert "object (" not in page


def test_nobody_edits_an_order_in_the_admin(admin_client):
    order = make_order("pending")
    url = reverse("admin:orders_order_change", args=[order.pk])
    assert admin_client.post(url, {"status": "paid", "total": "1"}).status_code == 403
    order.refresh_from_db()
    assert (order.status, order.total) == ("pending", 3600)


def test_non_staff_are_sent_to_the_login_page(client):
    assert client.get("/admin/")["Location"] == "/admin/login/?next=/admin/"
    client.force_login(User.objects.create_user("shopper", password="not-a-secret-3141"))
    for url in ["/admin/", CHANGELIST]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url


def test_ops_cannot_edit_users_or_money(ops_client, ops_user):
    victim = User.objects.create_user("someone", password="not-a-secret-3141")
    assert not ops_user.has_perm("auth.change_user") and not ops_user.has_perm("auth.change_group")
    url = f"/admin/auth/user/{victim.pk}/change/"
    assert ops_client.post(url, {"username": "someone", "is_superuser": "on"}).status_code == 403
    assert ops_client.post(f"/admin/auth/user/{ops_user.pk}/change/", {"is_superuser": "on"}).status_code == 403
    victim.refresh_from_db()
    ops_user.refresh_from_db()
    assert not victim.is_superuser and not ops_user.is_superuser

    product = ProductFactory(sku="PRICE-1", unit_price=1000)
    assert not ops_user.has_perm("catalog.change_product")
    assert ops_client.post(f"/admin/catalog/product/{product.pk}/change/", {"unit_price": "1"}).status_code == 403
    product.refresh_from_db()
    assert product.unit_price == 1000


def test_ops_can_change_a_periodic_tasks_schedule(ops_client):
    every_5m = IntervalSchedule.objects.create(every=300, period=IntervalSchedule.SECONDS)
    every_1m = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    task = PeriodicTask.objects.create(name="Reconcile stuck orders", task="orders.tasks.reconcile_stuck_orders",
                                       interval=every_5m, queue="payments")
    url = f"/admin/django_celery_beat/periodictask/{task.pk}/change/"
    form = ops_client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    data["interval"] = every_1m.pk

    response = ops_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    task.refresh_from_db()
    assert task.interval == every_1m


def test_the_admin_login_locks_out_after_repeated_failures_for_that_user_and_client_only(db, settings):
    from django.contrib.auth.models import User
    from django.test import Client

    User.objects.create_user("ops-bob", "bob@example.com", "the-right-password-271", is_staff=True)
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    answers = [attacker.post("/admin/login/", {"username": "ops-bob", "password": f"guess-{i}"}).status_code
               for i in range(settings.AXES_FAILURE_LIMIT)]
    assert answers == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # the form again, then locked out

    locked = attacker.post("/admin/login/", {"username": "ops-bob", "password": "the-right-password-271"})
    elsewhere = Client(REMOTE_ADDR="198.51.100.5").post("/admin/login/", {"username": "ops-bob",
                                                                          "password": "the-right-password-271"})

    assert locked.status_code == 429 and "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in attacker.session
    assert elsewhere.status_code == 302  # bob himself, from his own address, is not locked out
