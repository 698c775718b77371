"""The Celery app: `celery -A harbor worker|beat` finds it here.

All configuration lives in Django settings under the CELERY_ prefix (harbor/settings.py).
Logging is Django's (JSON lines in prod), with django-structlog's worker step binding each
task's `task_id` and the context of the request that sent it (`request_id`, `order_id`).
"""

import os

from celery import Celery, beat
from celery.signals import (after_task_publish, before_task_publish, setup_logging, task_postrun, task_prerun,
                            worker_init, worker_process_init)
from django_structlog.celery.steps import DjangoStructLogInitStep
from kombu.utils.objects import cached_property

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harbor.settings")

# The scheduler names that mean django-celery-beat's DatabaseScheduler (`-S django` is the
# contract's command line): Beat runs Harbor's leased subclass of it instead (harbor/beat.py).
LEASED_SCHEDULER = "harbor.beat:LeasedScheduler"
DATABASE_SCHEDULER_NAMES = {"django", "django_celery_beat.schedulers:DatabaseScheduler",
                            "django_celery_beat.schedulers.DatabaseScheduler"}


class BeatService(beat.Service):
    def __init__(self, *args, scheduler_cls=None, **kwargs):
        if scheduler_cls in DATABASE_SCHEDULER_NAMES:
            # `-S django` resolves through django-celery-beat's entry point to its own class,
            # with no lease: two Beats would both send. Any other name is left as given.
            scheduler_cls = LEASED_SCHEDULER
        super().__init__(*args, scheduler_cls=scheduler_cls, **kwargs)


class Harbor(Celery):
    @cached_property
    def Beat(self):
        """`celery beat`'s application, with BeatService (the lease for `-S django`)."""
        base = self.subclass_with_self("celery.apps.beat:Beat")
        return type("Beat", (base,), {"Service": BeatService, "__module__": __name__})


# FailoverConnection: with a list of RabbitMQ nodes (CELERY_BROKER_URL "url1;url2;url3"), a node
# that stops answering costs one publish its budget, not every later one (harbor/failover.py).
app = Harbor("harbor", amqp="harbor.failover:AMQP")
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
