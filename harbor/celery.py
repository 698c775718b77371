"""The Celery app: `celery -A harbor worker|beat` finds it here.

All configuration lives in Django settings under the CELERY_ prefix (harbor/settings.py).
Logging is Django's (JSON lines in prod), with django-structlog's worker step binding each
task's `task_id` and the context of the request that sent it (`request_id`, `order_id`).
"""

import os

from celery import Celery
from celery.signals import (after_task_publish, before_task_publish, setup_logging, task_postrun, task_prerun,
                            worker_init, worker_process_init)
from django_structlog.celery.steps import DjangoStructLogInitStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbor.settings")

app = Celery("harbor")
app.config_from_object("django.conf:settings", namespace="CELERY")


class StructlogWorkerStep(DjangoStructLogInitStep):
    """django-structlog's worker step, with the publish receivers connected once: its
    AppConfig already connects before/after_task_publish in every process, and the stock
    step connects a second receiver, so each task a worker sent was logged twice."""

    def __init__(self, parent, **kwargs):
        super().__init__(parent, **kwargs)
        before_task_publish.disconnect(self.receiver.receiver_before_task_publish)
        after_task_publish.disconnect(self.receiver.receiver_after_task_publish)


app.steps["worker"].add(StructlogWorkerStep)
app.autodiscover_tasks()


@setup_logging.connect
def use_djangos_logging(**kwargs):
    """Celery would configure logging its own way; the shop's processes all log alike."""
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@worker_process_init.connect(weak=False)
def start_tracing(**kwargs):
    """OpenTelemetry in each worker process (prefork children, or the solo pool), when configured."""
    from harbor import telemetry

    telemetry.setup("harbor-worker")


@worker_init.connect(weak=False)
def start_tracing_without_child_processes(sender, **kwargs):
    """The threads pool (the Procfile's payments worker) runs tasks in the worker's own process
    and sends no worker_process_init: tracing starts here. A prefork parent runs no task; its
    children start their own after the fork."""
    from celery.concurrency import get_implementation
    from celery.concurrency.prefork import TaskPool as PreforkPool

    from harbor import telemetry

    pool = get_implementation(sender.pool_cls)
    if not (isinstance(pool, type) and issubclass(pool, PreforkPool)):
        telemetry.setup("harbor-worker")


@task_prerun.connect(weak=False)
@task_postrun.connect(weak=False)
def recycle_database_connections(**kwargs):
    """Around each task, what Django does around each request: close the connections that are
    past CONN_MAX_AGE or broken (an error, a failed health check), keep the others.

    Celery 5.7's Django fixup instead closes every connection before and after every task
    (celery#9824 reverted honouring CONN_MAX_AGE), so each task paid a new PostgreSQL
    connection: about 5 ms of a 7 ms no-op task, and a backend process forked per task on the
    database's side. CELERY_DB_REUSE_MAX (settings) turns the fixup's closing off; after a
    fork the fixup still drops the parent's connections (it does not use that setting there).
    """
    from django.db import close_old_connections

    close_old_connections()
