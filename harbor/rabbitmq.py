"""RabbitMQ for money (`manage.py setup_rabbitmq`): the topology over AMQP, the rest as a policy.

Over AMQP (idempotent): the three topic exchanges and quorum queues Celery uses
(harbor/brokers.py), and the dead-letter exchange `harbor.dlx` (fanout) with the quorum
queue `dead_letters` bound to it.

As a policy, because the arguments of an existing queue cannot change (redeclaring with
others fails with PRECONDITION_FAILED), while a policy can be applied and changed at any
time: dead-letter to harbor.dlx, at least once (which needs overflow reject-publish), after
DELIVERY_LIMIT deliveries (a message that kills its worker every time stops there). A
policy needs the management HTTP API (RABBITMQ_MANAGEMENT_URL) or `rabbitmqctl` on the
broker's host; AMQP cannot set one.
"""

import json
import shutil
import subprocess
from urllib.parse import quote, unquote, urlsplit

import requests
from kombu import Connection, Exchange, Queue

from harbor.brokers import DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, QUEUES, queues

POLICY = "harbor-dlx"
DELIVERY_LIMIT = 5


def policy_definition(delivery_limit=DELIVERY_LIMIT):
    return {"dead-letter-exchange": DEAD_LETTER_EXCHANGE, "delivery-limit": delivery_limit,
            "dead-letter-strategy": "at-least-once", "overflow": "reject-publish"}


def pattern(names=QUEUES):
    return "^(" + "|".join(names) + ")$"  # anchored: celery_delayed_* carry their own dead-lettering


def vhost_of(url):
    path = urlsplit(url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def declare(url, queue_names=QUEUES):
    """The exchanges and queues, declared (idempotently) on the broker at `url`."""
    dead_letters = Queue(DEAD_LETTER_QUEUE, Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True),
                         queue_arguments={"x-queue-type": "quorum"})
    wanted = [q for q in queues(amqp=True) if q.name in queue_names] + [dead_letters]
    with Connection(url, connect_timeout=5) as conn:
        channel = conn.channel()
        for queue in wanted:
            queue.bind(channel).declare()
        return [q.name for q in wanted]


def apply_policy(url, management_url=None, delivery_limit=DELIVERY_LIMIT, queue_names=QUEUES):
    """Set (or replace) the dead-letter policy on the broker's vhost. Returns how."""
    vhost, definition = vhost_of(url), policy_definition(delivery_limit)
    if management_url:
        api = management_url.rstrip("/")
        parts = urlsplit(api)
        auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        base = api.replace(f"{parts.username}:{parts.password}@", "") if parts.username else api
        response = requests.put(f"{base}/api/policies/{quote(vhost, safe='')}/{POLICY}", auth=auth, timeout=10,
                                json={"pattern": pattern(queue_names), "apply-to": "queues", "priority": 10,
                                      "definition": definition})
        response.raise_for_status()
        return "management API"
    if shutil.which("rabbitmqctl"):
        subprocess.run(["rabbitmqctl", "set_policy", "-p", vhost, "--apply-to", "queues", "--priority", "10",
                        POLICY, pattern(queue_names), json.dumps(definition)],
                       check=True, capture_output=True, text=True, timeout=60)
        return "rabbitmqctl"
    raise RuntimeError("Cannot set a RabbitMQ policy from here: set RABBITMQ_MANAGEMENT_URL "
                       "(the management API), or run this on the broker's host (rabbitmqctl), or run:\n  "
                       + command(vhost, definition, queue_names))


def command(vhost, definition, queue_names=QUEUES):
    return (f"rabbitmqctl set_policy -p {vhost} --apply-to queues --priority 10 {POLICY} "
            f"'{pattern(queue_names)}' '{json.dumps(definition)}'")
