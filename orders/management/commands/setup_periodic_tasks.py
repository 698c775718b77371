import json

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


class Command(BaseCommand):
    help = (
        "Create or update Harbor's periodic tasks for `celery beat -S django` (idempotent): "
        "reconcile_stuck_orders every RECONCILE_INTERVAL seconds (default 300), "
        "celery.backend_cleanup daily at 04:00 UTC, and the stock audit nightly at 03:30 UTC. "
        "Schedules can then be changed in the admin (Periodic tasks)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--reconcile-interval", type=int, default=settings.RECONCILE_INTERVAL,
                            help="seconds between reconciliation runs (default: RECONCILE_INTERVAL)")

    @transaction.atomic
    def handle(self, *args, reconcile_interval, **options):
        every, _ = IntervalSchedule.objects.get_or_create(every=reconcile_interval, period=IntervalSchedule.SECONDS)
        nightly, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="3", day_of_week="*",
                                                           day_of_month="*", month_of_year="*", timezone="UTC")
        daily, _ = CrontabSchedule.objects.get_or_create(minute="0", hour="4", day_of_week="*",
                                                         day_of_month="*", month_of_year="*", timezone="UTC")
        tasks = [
            ("Reconcile stuck orders", "orders.tasks.reconcile_stuck_orders", {"interval": every, "crontab": None},
             "payments"),
            ("Clean up expired task results", "celery.backend_cleanup", {"crontab": daily, "interval": None},
             "fulfillment"),
            ("Audit stock against order lines", "catalog.tasks.audit_stock", {"crontab": nightly, "interval": None},
             "fulfillment"),
        ]
        for name, task, schedule, queue in tasks:
            _, created = PeriodicTask.objects.update_or_create(
                name=name,
                defaults={"task": task, "queue": queue, "enabled": True, "args": json.dumps([]), **schedule},
            )
            self.stdout.write(f"{'created' if created else 'updated'}: {name} ({task})")
