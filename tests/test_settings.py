"""The timing rule and the message format, read from the real settings."""

import os

import pytest
from django.conf import settings

from harbor.celery import app
from orders.tasks import fulfill_order


def test_time_limit_is_below_lock_ttl_which_is_below_the_visibility_timeout():
    visibility = app.conf.broker_transport_options["visibility_timeout"]

    assert app.conf.task_soft_time_limit < app.conf.task_time_limit < settings.ORDER_LOCK_TTL < visibility


def test_retry_backoff_never_reaches_the_visibility_timeout():
    assert fulfill_order.retry_backoff_max < app.conf.broker_transport_options["visibility_timeout"]
    assert fulfill_order.retry_jitter is True and fulfill_order.max_retries >= 3


def test_stripe_calls_time_out_before_the_task_soft_limit():
    assert settings.STRIPE_TIMEOUT < app.conf.task_soft_time_limit


def test_fulfill_order_acks_late_and_requeues_when_its_worker_dies():
    assert fulfill_order.acks_late is True and fulfill_order.reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_json_is_the_only_accepted_serializer():
    assert app.conf.task_serializer == app.conf.result_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


@pytest.mark.parametrize("task,queue", [("orders.tasks.fulfill_order", "payments"),
                                        ("orders.tasks.create_label", "fulfillment"),
                                        ("notifications.tasks.send_receipt", "notifications"),
                                        ("notifications.tasks.send_payment_failed", "notifications")])
def test_each_task_is_routed_to_its_queue(task, queue):
    assert app.amqp.router.route({}, task)["queue"].name == queue


def test_a_broken_timing_rule_refuses_to_start(monkeypatch):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], capture_output=True, text=True,
                            env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "harbor.settings",
                                 "ORDER_LOCK_TTL": "30"})

    assert result.returncode != 0 and "ORDER_LOCK_TTL" in result.stderr


def test_an_order_awaiting_3d_secure_holds_its_stock_for_15_minutes_by_default():
    """Issue 14: the window in which an unauthenticated order keeps its stock is short (was 30
    minutes), so one client cannot hold the catalog hostage with orders it never pays."""
    assert "AUTHENTICATION_WINDOW" not in os.environ
    assert settings.AUTHENTICATION_WINDOW == 15 * 60
