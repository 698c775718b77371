"""Harbor's periodic tasks for Celery Beat, in one place.

`manage.py setup_periodic_tasks` writes these into django-celery-beat's tables, and the
Periodic tasks admin (orders/admin_schedules.py) lets ops schedule only these task names:
the scheduler must not become a way to run what the order actions refuse (e.g. a refund
with arguments of one's choosing). None of them takes arguments.

Adding a periodic task is one more line in PERIODIC_TASKS.

The results cleanup goes by the name Beat itself gives it: django-celery-beat's scheduler
writes a PeriodicTask "celery.backend_cleanup" (daily at 04:00) every time Beat starts, since
results expire (CELERY_RESULT_EXPIRES). A row of ours under another name ran the same cleanup
twice; under Beat's name the two are one row. Beat rewrites that row's schedule at each start,
so its time is Beat's, and ours matches it.
"""

from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Periodic:
    name: str  # PeriodicTask.name, what the admin lists
    task: str  # the Celery task's registered name
    queue: str
    cron: str = ""  # "minute hour day_of_month month_of_year day_of_week", in UTC
    every_setting: str = ""  # or: every N seconds, N read from this Django setting

    def every(self, overrides=None):
        return (overrides or {}).get(self.every_setting) or getattr(settings, self.every_setting)


RECONCILE = "orders.tasks.reconcile_stuck_orders"
BACKEND_CLEANUP = "celery.backend_cleanup"  # Beat's own entry's name and task (see above)

PERIODIC_TASKS = [
    Periodic("Reconcile stuck orders", RECONCILE, "payments", every_setting="RECONCILE_INTERVAL"),
    Periodic(BACKEND_CLEANUP, BACKEND_CLEANUP, "fulfillment", cron="0 4 * * *"),
    Periodic("Audit stock against order lines", "orders.tasks.audit_stock", "fulfillment", cron="30 3 * * *"),
    # webhooks/ sits above orders/: named here, never imported (a task name, like the fan-out's).
    Periodic("Deliver due webhooks", "webhooks.tasks.deliver_due", "webhooks", every_setting="WEBHOOK_SWEEP_INTERVAL"),
    Periodic("Forget expired idempotency keys", "orders.tasks.forget_idempotency_keys", "fulfillment",
             cron="45 3 * * *"),
]

TASK_NAMES = frozenset(p.task for p in PERIODIC_TASKS)

# Names Harbor's rows had before: setup_periodic_tasks deletes them.
RETIRED_NAMES = {"Clean up expired task results": BACKEND_CLEANUP}
