import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from orders.schedules import PERIODIC_TASKS, RETIRED_NAMES


class Command(BaseCommand):
    help = (
        "Create or update Harbor's periodic tasks (orders/schedules.py) for `celery beat -S django` "
        "(idempotent): reconcile_stuck_orders every RECONCILE_INTERVAL seconds (default 300), "
        "celery.backend_cleanup daily at 04:00 UTC, the stock audit nightly at 03:30 UTC and the "
        "idempotency-key cleanup nightly at 03:45 UTC. "
        "Schedules can then be changed in the admin (Periodic tasks)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reconcile-interval", type=int, default=settings.RECONCILE_INTERVAL,
                            help="seconds between reconciliation runs (default: RECONCILE_INTERVAL)")

    @transaction.atomic
    def handle(self, *args, reconcile_interval, **options):
        overrides = {"RECONCILE_INTERVAL": reconcile_interval}
        for name, task in RETIRED_NAMES.items():
            if PeriodicTask.objects.filter(name=name, task=task).delete()[0]:
                self.stdout.write(f"deleted: {name} ({task}), a name no longer used")
        for periodic in PERIODIC_TASKS:
            _, created = PeriodicTask.objects.update_or_create(
                name=periodic.name,
                # Everything that could keep a task from running is put back too (admin_schedules.runs_reconcile).
                defaults={"task": periodic.task, "queue": periodic.queue, "enabled": True,
                          "args": json.dumps([]), "kwargs": json.dumps({}), "headers": json.dumps({}),
                          "exchange": None, "routing_key": None, "expires": None, "expire_seconds": None,
                          "one_off": False, "start_time": None, **schedule(periodic, overrides)},
            )
            self.stdout.write(f"{'created' if created else 'updated'}: {periodic.name} ({periodic.task})")


def schedule(periodic, overrides):
    if periodic.cron:
        minute, hour, day_of_month, month_of_year, day_of_week = periodic.cron.split()
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month_of_year,
            day_of_week=day_of_week, timezone="UTC")
        return {"crontab": crontab, "interval": None}
    interval, _ = IntervalSchedule.objects.get_or_create(every=periodic.every(overrides),
                                                         period=IntervalSchedule.SECONDS)
    return {"interval": interval, "crontab": None}
