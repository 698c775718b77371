"""Beat's schedule (django-celery-beat's DatabaseScheduler, `celery -A harbor beat -S django`)
holds each of Harbor's periodic tasks once: the rows setup_periodic_tasks writes plus the
entries Beat installs by itself when it starts."""

from collections import Counter

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from harbor.celery import app
from orders.schedules import PERIODIC_TASKS, TASK_NAMES

pytestmark = pytest.mark.django_db(transaction=True)  # the scheduler closes connections in a transaction


def setup_periodic_tasks():
    call_command("setup_periodic_tasks", stdout=open("/dev/null", "w"))


def test_each_periodic_task_is_scheduled_once_after_beat_starts():
    setup_periodic_tasks()  # make run / compose's one-shot
    scheduler = DatabaseScheduler(app=app)  # Beat starting: it writes its own default entries
    setup_periodic_tasks()  # the next make run
    DatabaseScheduler(app=app)  # and Beat again

    rows = Counter(PeriodicTask.objects.filter(enabled=True).values_list("task", flat=True))
    assert rows == Counter(TASK_NAMES)  # a list compared, not a set: a second row shows
    assert sorted(PeriodicTask.objects.values_list("name", flat=True)) == sorted(p.name for p in PERIODIC_TASKS)
    # What Beat holds in memory (it leaves out cron entries not due within hours): nothing twice.
    assert set(Counter(entry.task for entry in scheduler.all_as_schedule().values()).values()) == {1}


def test_the_cleanup_row_under_its_old_name_is_removed():
    """A database set up before the fix has Harbor's cleanup under another name: it goes."""
    setup_periodic_tasks()
    old = PeriodicTask.objects.get(task="celery.backend_cleanup")
    PeriodicTask.objects.create(name="Clean up expired task results", task="celery.backend_cleanup",
                                crontab=old.crontab)

    setup_periodic_tasks()

    assert list(PeriodicTask.objects.filter(task="celery.backend_cleanup").values_list("name", flat=True)) == [
        "celery.backend_cleanup"]
