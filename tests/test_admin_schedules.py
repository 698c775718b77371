"""The Periodic tasks admin: ops schedule and run Harbor's own periodic tasks only, without
arguments; turning reconciliation off asks first and is logged (orders/admin_schedules.py)."""

import html
import re
from collections import defaultdict

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from orders.schedules import RECONCILE, TASK_NAMES
from tests.conftest import queued_tasks

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/django_celery_beat/periodictask/"
ADD = CHANGELIST + "add/"
AUDIT = "orders.tasks.audit_stock"
REFUND = "payments.tasks.refund_order"
CONFIRMATION = "admin/orders/confirm_reconciliation_off.html"
WARNING = "Without reconciliation, an order whose message was lost"  # what the pages say is lost


@pytest.fixture
def ops(ops_login):
    return ops_login("ops-ann")


@pytest.fixture
def harbor_tasks(db):
    call_command("setup_periodic_tasks", stdout=open("/dev/null", "w"))
    return {t.task: t for t in PeriodicTask.objects.all()}


@pytest.fixture
def every_minute(db):
    return IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)


def form_data(page, **changes):
    """What the browser posts for the admin form on `page`, with `changes` (None: unticked/left out)."""
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: "on" if value is True else value for name, value in data.items() if value not in (None, False)}
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


def confirmed(page):
    """What the confirmation page posts when ops click "Yes, turn reconciliation off"."""
    assert [t.name for t in page.templates][0] == CONFIRMATION
    data = defaultdict(list)
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.content.decode()):
        data[name].append(html.unescape(value))
    return dict(data)


def run_action(client, action, *tasks):
    """Run an action from the changelist; the answer is the page shown next (the changelist
    with the action's messages, or a confirmation page)."""
    return client.post(CHANGELIST, {"action": action, "_selected_action": [t.pk for t in tasks]}, follow=True)


def shown(page):
    return [str(m) for m in page.context["messages"]]


def enabled(task):
    return PeriodicTask.objects.get(pk=task.pk).enabled


def warnings_about_reconciliation(caplog):
    return [r.getMessage() for r in caplog.records
            if r.levelname == "WARNING" and r.name == "orders.admin_schedules"]


def test_the_task_choice_offers_only_harbors_periodic_tasks(ops):
    choices = ops.get(ADD).context["adminform"].form.fields["regtask"].choices

    assert [value for value, _ in choices] == ["", *sorted(TASK_NAMES)]
    assert TASK_NAMES == {RECONCILE, "celery.backend_cleanup", AUDIT, "orders.tasks.forget_idempotency_keys",
                          "webhooks.tasks.deliver_due"}


@pytest.mark.parametrize("changes, refused_field", [
    ({"regtask": REFUND, "args": '["6f1c1a52-0000-4000-8000-000000000000"]'}, "regtask"),
    ({"task": REFUND, "args": '["6f1c1a52-0000-4000-8000-000000000000"]'}, "task"),
    ({"task": RECONCILE, "args": '["x"]'}, "args"),
    ({"task": RECONCILE, "kwargs": '{"order_id": "x"}'}, "kwargs"),
    # Celery merges these into the message's headers: this one would run a refund instead.
    ({"task": RECONCILE, "headers": f'{{"task": "{REFUND}"}}'}, "headers"),
])
def test_ops_cannot_schedule_another_task_or_give_one_arguments(ops, every_minute, changes, refused_field):
    response = ops.post(ADD, form_data(ops.get(ADD), name="Sneaky", interval=every_minute.pk, **changes))

    assert response.status_code == 200
    assert refused_field in response.context["adminform"].form.errors
    assert not PeriodicTask.objects.filter(name="Sneaky").exists()


def test_ops_can_schedule_one_of_harbors_tasks(ops, every_minute):
    response = ops.post(ADD, form_data(ops.get(ADD), name="Audit stock hourly", regtask=AUDIT,
                                       interval=every_minute.pk))

    assert response.status_code == 302, response.context["adminform"].form.errors
    added = PeriodicTask.objects.get(name="Audit stock hourly")
    assert (added.task, added.interval, added.args, added.enabled) == (AUDIT, every_minute, "[]", True)


def test_run_and_enable_act_on_harbors_tasks_and_refuse_any_other(ops, harbor_tasks, broker, every_minute):
    rogue = PeriodicTask.objects.create(name="Refund someone", task=REFUND, args='["x"]', interval=every_minute,
                                        enabled=False)  # e.g. made in a shell
    audit = harbor_tasks[AUDIT]

    refused = f"“Refund someone” not %s: {REFUND} is not one of Harbor's periodic tasks."

    assert shown(run_action(ops, "run_tasks", rogue, audit)) == [refused % "run", "1 task was successfully run"]
    assert queued_tasks(broker, "fulfillment") == [(AUDIT, [])]
    assert queued_tasks(broker, "payments") == []

    assert shown(run_action(ops, "enable_tasks", rogue)) == [refused % "enabled"]
    assert not enabled(rogue)


def test_unticking_enabled_on_reconciliation_asks_first_and_is_logged_once_confirmed(ops, harbor_tasks, caplog):
    reconcile = harbor_tasks[RECONCILE]
    url = f"{CHANGELIST}{reconcile.pk}/change/"
    unticked = form_data(ops.get(url), enabled=None)

    asked = ops.post(url, unticked)

    assert asked.status_code == 200 and WARNING in asked.content.decode()
    assert enabled(reconcile)
    assert warnings_about_reconciliation(caplog) == []

    done = ops.post(url, confirmed(asked))

    assert done.status_code == 302
    assert not enabled(reconcile)
    assert warnings_about_reconciliation(caplog) == [
        f"ops-ann changed periodic task 'Reconcile stuck orders' ({RECONCILE}): reconciliation is off"]
    assert LogEntry.objects.filter(object_id=str(reconcile.pk), user__username="ops-ann", action_flag=CHANGE).exists()


def test_unticking_another_task_needs_no_confirmation(ops, harbor_tasks):
    audit = harbor_tasks[AUDIT]
    url = f"{CHANGELIST}{audit.pk}/change/"

    assert ops.post(url, form_data(ops.get(url), enabled=None)).status_code == 302
    assert not enabled(audit)


@pytest.mark.parametrize("action", ["disable_tasks", "toggle_tasks"])
def test_disable_and_toggle_actions_ask_before_turning_reconciliation_off(action, ops, harbor_tasks, caplog):
    reconcile, audit = harbor_tasks[RECONCILE], harbor_tasks[AUDIT]

    asked = run_action(ops, action, reconcile, audit)

    assert asked.status_code == 200 and WARNING in asked.content.decode()
    assert enabled(reconcile) and enabled(audit)

    done = ops.post(CHANGELIST, confirmed(asked))

    assert done.status_code == 302
    assert not enabled(reconcile) and not enabled(audit)
    assert warnings_about_reconciliation(caplog) == [
        f"ops-ann disabled periodic task 'Reconcile stuck orders' ({RECONCILE}): reconciliation is off"]
    entry = LogEntry.objects.get(object_id=str(reconcile.pk), action_flag=CHANGE)
    assert (entry.user.username, entry.change_message) == ("ops-ann", "Turned reconciliation off (bulk action).")


def test_deleting_reconciliation_says_what_is_lost_and_is_logged(ops, harbor_tasks, caplog):
    reconcile = harbor_tasks[RECONCILE]
    url = f"{CHANGELIST}{reconcile.pk}/delete/"

    assert WARNING in ops.get(url).content.decode()  # on Django's "Are you sure?" page
    assert ops.post(url, {"post": "yes"}).status_code == 302

    assert not PeriodicTask.objects.filter(pk=reconcile.pk).exists()
    assert warnings_about_reconciliation(caplog) == [
        f"ops-ann deleted periodic task 'Reconcile stuck orders' ({RECONCILE}): reconciliation is off"]
    assert LogEntry.objects.filter(object_id=str(reconcile.pk), user__username="ops-ann",
                                   action_flag=DELETION).exists()


@pytest.mark.parametrize("changes", [
    {"queue": "nobody-consumes-this"},  # no worker would ever take its messages
    {"exchange": "elsewhere"},
    {"routing_key": "elsewhere"},
    {"expires_0": "2020-01-01", "expires_1": "00:00:00"},  # every message discarded as expired
    {"expire_seconds": "1"},
    {"start_time_0": "2099-01-01", "start_time_1": "00:00:00"},  # not before 2099
    {"one_off": "on"},  # once, then never again
], ids=["queue", "exchange", "routing_key", "expires", "expire_seconds", "start_time", "one_off"])
def test_any_change_that_would_stop_reconciliation_running_asks_first_and_is_logged(changes, ops, harbor_tasks,
                                                                                   caplog):
    reconcile = harbor_tasks[RECONCILE]
    url = f"{CHANGELIST}{reconcile.pk}/change/"

    asked = ops.post(url, form_data(ops.get(url), **changes))

    assert asked.status_code == 200 and WARNING in asked.content.decode()
    assert PeriodicTask.objects.get(pk=reconcile.pk).queue == "payments"  # nothing saved yet
    assert warnings_about_reconciliation(caplog) == []

    assert ops.post(url, confirmed(asked)).status_code == 302
    assert warnings_about_reconciliation(caplog) == [
        f"ops-ann changed periodic task 'Reconcile stuck orders' ({RECONCILE}): reconciliation is off"]
    call_command("setup_periodic_tasks", stdout=open("/dev/null", "w"))  # and the command puts it right again
    from orders.admin_schedules import runs_reconcile
    assert runs_reconcile(PeriodicTask.objects.get(pk=reconcile.pk))


def test_a_harmless_change_to_reconciliation_needs_no_confirmation(ops, harbor_tasks, every_minute):
    reconcile = harbor_tasks[RECONCILE]
    url = f"{CHANGELIST}{reconcile.pk}/change/"

    assert ops.post(url, form_data(ops.get(url), interval=every_minute.pk, description="every minute")).status_code == 302


@pytest.mark.parametrize("how", ["delete page", "bulk action"])
def test_the_schedule_reconciliation_runs_on_cannot_be_deleted(how, admin_client, harbor_tasks):
    """Deleting its interval would delete the reconciliation task with it (the foreign key
    cascades): the schedule is protected, whoever asks, until reconciliation runs on another."""
    reconcile = harbor_tasks[RECONCILE]
    schedules = "/admin/django_celery_beat/intervalschedule/"
    if how == "delete page":
        page = admin_client.post(f"{schedules}{reconcile.interval_id}/delete/", {"post": "yes"})
    else:
        page = admin_client.post(schedules, {"action": "delete_selected", "post": "yes",
                                             "_selected_action": [reconcile.interval_id]})

    assert page.status_code == 200 and "reconciliation runs on it" in page.content.decode()
    assert IntervalSchedule.objects.filter(pk=reconcile.interval_id).exists()
    assert PeriodicTask.objects.filter(pk=reconcile.pk, enabled=True).exists()


def test_a_schedule_reconciliation_does_not_run_on_can_be_deleted(admin_client, harbor_tasks, every_minute):
    assert admin_client.post(f"/admin/django_celery_beat/intervalschedule/{every_minute.pk}/delete/",
                             {"post": "yes"}).status_code == 302
    assert not IntervalSchedule.objects.filter(pk=every_minute.pk).exists()
