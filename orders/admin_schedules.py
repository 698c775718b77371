"""The Periodic tasks admin: ops schedule and run Harbor's own periodic tasks, nothing else.

django-celery-beat's admin lets anyone who may change periodic tasks schedule, or run at
once, any registered task with any arguments (say payments.tasks.refund_order for an
order of their choosing): more than the order actions allow. This replaces it so that the
task is one of orders/schedules.py's, with no arguments, and turning reconciliation off
(the safety net for every lost message) takes a confirmation and is logged.
"""

import json
import logging

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django_celery_beat.admin import (ClockedScheduleAdmin, CrontabScheduleAdmin, IntervalScheduleAdmin,
                                      PeriodicTaskAdmin, PeriodicTaskForm, SolarScheduleAdmin)
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

from orders.schedules import PERIODIC_TASKS, RECONCILE, TASK_NAMES

logger = logging.getLogger(__name__)

CONFIRM = "confirm_reconciliation_off"
RECONCILE_QUEUE = next(p.queue for p in PERIODIC_TASKS if p.task == RECONCILE)
WARNING = ("Without reconciliation, an order whose message was lost (a broker outage at checkout, a killed "
           "worker) stays pending or paid for good, and a refund or e-mail that never went out is never sent.")


def runs_reconcile(task, now=None):
    """Does this PeriodicTask keep reconciliation running? Enabled, and nothing else that stops
    its messages from being run: another queue than the one its workers consume, an exchange or
    routing key of its own, an expiry (a message that waits longer is discarded), a start in
    the future, or one run only."""
    now = now or timezone.now()
    return (task.enabled and task.task == RECONCILE and task.queue in (None, "", RECONCILE_QUEUE)
            and not task.exchange and not task.routing_key and task.expires is None and not task.expire_seconds
            and not task.one_off and (task.start_time is None or task.start_time <= now)
            and any(getattr(task, kind + "_id") for kind in ("interval", "crontab", "solar", "clocked")))


def reconcile_schedules():
    """The schedules (interval, crontab, …) that a reconciliation task runs on: deleting one
    would delete the task with it (the foreign key cascades), so they are protected."""
    return {(kind, getattr(task, kind + "_id")) for task in PeriodicTask.objects.filter(task=RECONCILE)
            for kind in ("interval", "crontab", "solar", "clocked") if getattr(task, kind + "_id")}


class HarborPeriodicTaskForm(PeriodicTaskForm):
    regtask = forms.ChoiceField(label="Task (registered)", required=False,
                                choices=[("", "")] + [(name, name) for name in sorted(TASK_NAMES)])

    def clean(self):
        data = super().clean()  # the task is `regtask` if chosen, else the free-text `task`
        if data.get("task") not in TASK_NAMES:
            self.add_error("task", "Only Harbor's periodic tasks can be scheduled: " + ", ".join(sorted(TASK_NAMES)))
        # None of Harbor's tasks takes arguments. Headers too: Celery merges them into the
        # message's own headers, so {"task": ...} there would run another task.
        for field, empty in (("args", []), ("kwargs", {}), ("headers", {})):
            if field in data and not _is_empty_json(data[field], empty):
                self.add_error(field, f"Harbor's periodic tasks take none: leave it {json.dumps(empty)}.")
        return data


def _is_empty_json(value, empty):
    try:
        return not (value or "").strip() or json.loads(value) == empty
    except ValueError:
        return False


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class HarborPeriodicTaskAdmin(PeriodicTaskAdmin):
    form = HarborPeriodicTaskForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A save that would stop reconciliation (unticked, or made another task) shows the
        confirmation page instead; the page posts the same form again, confirmed."""
        if request.method == "POST" and object_id and CONFIRM not in request.POST:
            before = self.get_object(request, unquote(object_id))
            if before is not None and runs_reconcile(before) and self.has_change_permission(request, before):
                form = self.get_form(request, before, change=True)(
                    request.POST, instance=self.get_object(request, unquote(object_id)))
                if form.is_valid() and not runs_reconcile(form.instance):
                    return self._confirmation(request, f"Save “{before.name}” with reconciliation off?")
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        was_on = change and runs_reconcile(PeriodicTask.objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)
        if was_on and not runs_reconcile(obj):  # the change itself is in Django's LogEntry
            self._warn(request, obj, "changed")

    def get_deleted_objects(self, objs, request):
        # Both delete views ask "Are you sure?" first; that page also says what is lost.
        if request.POST.get("post") != "yes" and any(runs_reconcile(task) for task in objs):
            self.message_user(request, WARNING, messages.WARNING)
        return super().get_deleted_objects(objs, request)

    def delete_model(self, request, obj):
        if runs_reconcile(obj):
            self._warn(request, obj, "deleted")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for task in queryset.filter(enabled=True, task=RECONCILE):
            self._warn(request, task, "deleted")
        super().delete_queryset(request, queryset)

    # The bulk actions. Disabling is allowed for any task; what starts a task (enable, toggle,
    # run) only for Harbor's. Turning reconciliation off asks first, then is logged.

    @admin.action(description="Enable selected tasks")
    def enable_tasks(self, request, queryset):
        if (harbors := self._only_harbors(request, queryset, "enabled")).exists():
            super().enable_tasks(request, harbors)

    @admin.action(description="Disable selected tasks")
    def disable_tasks(self, request, queryset):
        return self._turning_off(request, queryset, PeriodicTaskAdmin.disable_tasks)

    @admin.action(description="Toggle activity of selected tasks")
    def toggle_tasks(self, request, queryset):
        harbors = self._only_harbors(request, queryset, "toggled")
        if harbors.exists():
            return self._turning_off(request, harbors, PeriodicTaskAdmin.toggle_tasks)

    @admin.action(description="Run selected tasks")
    def run_tasks(self, request, queryset):
        if (harbors := self._only_harbors(request, queryset, "run")).exists():
            super().run_tasks(request, harbors)

    def _only_harbors(self, request, queryset, done):
        for task in queryset.exclude(task__in=TASK_NAMES):
            self.message_user(request, f"“{task.name}” not {done}: {task.task} is not one of Harbor's periodic tasks.",
                              messages.ERROR)
        return queryset.filter(task__in=TASK_NAMES)

    def _turning_off(self, request, queryset, action):
        """Run the parent's `action` on `queryset` (it turns off the enabled tasks there), after
        a confirmation page if reconciliation is among them."""
        reconcile = list(queryset.filter(enabled=True, task=RECONCILE))
        if reconcile and CONFIRM not in request.POST:
            return self._confirmation(request, "Turn off reconciliation ("
                                      + ", ".join(f"“{task.name}”" for task in reconcile) + ")?")
        action(self, request, queryset)
        for task in reconcile:
            self._warn(request, task, "disabled")
            self.log_change(request, task, "Turned reconciliation off (bulk action).")

    def _warn(self, request, task, how):
        logger.warning("%s %s periodic task %r (%s): reconciliation is off", request.user.get_username(), how,
                       task.name, task.task)

    def _confirmation(self, request, question):
        """A page that posts the same request again with CONFIRM added."""
        return TemplateResponse(request, "admin/orders/confirm_reconciliation_off.html", {
            **self.admin_site.each_context(request),
            "opts": self.opts, "title": question, "warning": WARNING, "confirm": CONFIRM,
            "posted": [(key, value) for key, values in request.POST.lists() if key != "csrfmiddlewaretoken"
                       for value in values],
        })


class ProtectedScheduleMixin:
    """A schedule that reconciliation runs on cannot be deleted here, by anyone: the delete
    page lists it as protected (as for a PROTECT foreign key) and deletes nothing. Change the
    reconciliation task to another schedule first, which asks for confirmation if it stops."""

    kind = None

    def get_deleted_objects(self, objs, request):
        to_delete, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        runs_it = {pk for kind, pk in reconcile_schedules() if kind == self.kind}
        for schedule in objs:
            if schedule.pk in runs_it:
                protected = [*protected, f"{schedule} (reconciliation runs on it)"]
        return to_delete, counts, perms_needed, protected

    def delete_model(self, request, obj):
        if obj.pk in {pk for kind, pk in reconcile_schedules() if kind == self.kind}:
            raise PermissionDenied(f"{obj} runs reconciliation")  # unreachable through the admin's pages
        super().delete_model(request, obj)


for _model, _base, _kind in ((IntervalSchedule, IntervalScheduleAdmin, "interval"),
                             (CrontabSchedule, CrontabScheduleAdmin, "crontab"),
                             (SolarSchedule, SolarScheduleAdmin, "solar"),
                             (ClockedSchedule, ClockedScheduleAdmin, "clocked")):
    admin.site.unregister(_model)
    admin.site.register(_model, type(_base.__name__, (ProtectedScheduleMixin, _base), {"kind": _kind}))
