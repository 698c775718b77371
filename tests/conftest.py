"""Shared fixtures. The services behind them are real (harbor.devservices.pytest_plugin)."""

import base64
import json

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import ProductFactory


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def product(db):
    return ProductFactory(sku="MUG-001", unit_price=1800, stock__available=50)


@pytest.fixture
def checkout_body():
    """A valid checkout body; keyword arguments override its fields."""

    def make(**overrides):
        body = {
            "email": "shopper@example.com",
            "lines": [{"sku": "MUG-001", "quantity": 2}],
            "payment_method": "pm_card_visa",
            "shipping_address": {"name": "Ada Lovelace", "line1": "12 Dock Road", "city": "Portsmouth",
                                 "postal_code": "PO1 3AX", "country": "GB"},
        }
        body.update(overrides)
        return body

    return make


@pytest.fixture
def broker():
    """The real broker (Redis), with the three queues emptied before the test."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("payments", "fulfillment", "notifications")
    yield client
    client.delete("payments", "fulfillment", "notifications")


def queued_tasks(client, queue):
    """(task name, args) of each message waiting in a Celery queue on Redis."""
    tasks = []
    for raw in client.lrange(queue, 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        tasks.append((message["headers"]["task"], args))
    return tasks
