"""A Celery worker keeps its PostgreSQL connection from task to task, as Django does from
request to request (CONN_MAX_AGE), and still replaces one that broke or grew old
(harbor/celery.py: recycle_database_connections)."""

import time

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection, connections

from harbor.celery import app
from loadtest.tasks import noop

pytestmark = pytest.mark.django_db(transaction=True)


def run_a_task():
    """What a worker does around a task: Celery's Django fixup (as the worker installs it,
    with the settings' CELERY_DB_REUSE_MAX) and the task signals, then the task's query."""
    fixup = DjangoWorkerFixup(app)
    task_prerun.send(sender=noop, task_id="t", task=noop, args=(), kwargs={})
    fixup.close_database()
    backend = backend_pid()
    fixup.close_database()
    task_postrun.send(sender=noop, task_id="t", task=noop, args=(), kwargs={}, retval=None, state="SUCCESS")
    return backend


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_consecutive_tasks_use_the_same_database_connection():
    assert len({run_a_task() for _ in range(5)}) == 1


def test_a_connection_killed_between_tasks_is_replaced_before_the_next_one_uses_it():
    first = run_a_task()
    killer = connections.create_connection("default")  # a second connection of its own, not the worker's
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [first])
    finally:
        killer.close()

    assert run_a_task() != first  # CONN_HEALTH_CHECKS: checked at the task's first query, reconnected


def test_a_connection_that_failed_under_a_task_is_closed_after_it():
    run_a_task()
    connection.errors_occurred = True  # as after a failed query
    connection.is_usable = lambda: False
    try:
        task_postrun.send(sender=noop, task_id="t", task=noop, args=(), kwargs={}, retval=None, state="FAILURE")
        assert connection.connection is None
    finally:
        del connection.is_usable


def test_a_connection_older_than_conn_max_age_is_closed_after_its_task():
    first = run_a_task()
    connection.close_at = time.monotonic() - 1  # CONN_MAX_AGE has passed

    assert run_a_task() != first
