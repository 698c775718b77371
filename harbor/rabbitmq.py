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

A cluster (a `;` list of its nodes' URLs): the declarations go to whichever node answers
first, in the list's order, and so does the policy (one list of management URLs, or
rabbitmqctl on any node's host): both are cluster-wide. The quorum queues are declared
without `x-quorum-initial-group-size`: RabbitMQ then places each on min(3, nodes in the
cluster) nodes (its `quorum_cluster_size`), i.e. on all three of a three-node cluster, and a
fixed size in the arguments would be frozen into every queue (arguments never change, and a
worker redeclaring with other ones fails), while a grown cluster keeps three replicas, the
size RabbitMQ recommends. `replicas()` reads where each queue's members are, so that
setup_rabbitmq shows it.
"""

import json
import shutil
import subprocess
from urllib.parse import quote, unquote, urlsplit

import requests
from kombu import Connection, Exchange, Queue

from harbor.brokers import DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE, QUEUES, queues, urls, vhost_of

POLICY = "harbor-dlx"
DELIVERY_LIMIT = 5


def policy_definition(delivery_limit=DELIVERY_LIMIT):
    return {"dead-letter-exchange": DEAD_LETTER_EXCHANGE, "delivery-limit": delivery_limit,
            "dead-letter-strategy": "at-least-once", "overflow": "reject-publish"}


def pattern(names=QUEUES):
    return "^(" + "|".join(names) + ")$"  # anchored: celery_delayed_* carry their own dead-lettering


def declare(url, queue_names=QUEUES):
    """The exchanges and queues, declared (idempotently) on the broker at `url`."""
    dead_letters = Queue(DEAD_LETTER_QUEUE, Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True),
                         queue_arguments={"x-queue-type": "quorum"})
    wanted = [q for q in queues(amqp=True) if q.name in queue_names] + [dead_letters]
    with Connection(url, connect_timeout=5) as conn:
        # Each node once, in the list's order: a first node that is down is skipped.
        conn.ensure_connection(max_retries=max(1, len(urls(url)) - 1), interval_start=0, interval_step=1)
        channel = conn.channel()
        for queue in wanted:
            queue.bind(channel).declare()
        return [q.name for q in wanted]


def apply_policy(url, management_url=None, delivery_limit=DELIVERY_LIMIT, queue_names=QUEUES):
    """Set (or replace) the dead-letter policy on the broker's vhost. Returns how."""
    vhost, definition = vhost_of(url), policy_definition(delivery_limit)
    if management_url:
        body = {"pattern": pattern(queue_names), "apply-to": "queues", "priority": 10, "definition": definition}
        _management("put", management_url, f"/api/policies/{quote(vhost, safe='')}/{POLICY}", json=body)
        return "management API"
    if shutil.which("rabbitmqctl"):
        subprocess.run(["rabbitmqctl", "set_policy", "-p", vhost, "--apply-to", "queues", "--priority", "10",
                        POLICY, pattern(queue_names), json.dumps(definition)],
                       check=True, capture_output=True, text=True, timeout=60)
        return "rabbitmqctl"
    raise RuntimeError("Cannot set a RabbitMQ policy from here: set RABBITMQ_MANAGEMENT_URL "
                       "(the management API), or run this on the broker's host (rabbitmqctl), or run:\n  "
                       + command(vhost, definition, queue_names))


def _management(method, management_url, path, **kwargs):
    """One call to the management API of the first node (of a `;` list) that answers."""
    error = None
    for api in urls(management_url):
        parts = urlsplit(api.rstrip("/"))
        auth = (unquote(parts.username or "guest"), unquote(parts.password or "guest"))
        base = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
        try:
            response = requests.request(method, base + path, auth=auth, timeout=10, **kwargs)
        except requests.ConnectionError as exc:  # that node is down: the next one
            error = exc
            continue
        response.raise_for_status()
        return response.json() if response.content else None
    raise error


def replicas(url, management_url=None, queue_names=(*QUEUES, DEAD_LETTER_QUEUE)):
    """({queue: [member nodes]}, [cluster nodes]) read from the management API or rabbitmqctl;
    None when neither is at hand."""
    vhost = vhost_of(url)
    if management_url:
        found = _management("get", management_url, f"/api/queues/{quote(vhost, safe='')}")
        nodes = [node["name"] for node in _management("get", management_url, "/api/nodes")]
        members = {q["name"]: sorted(q.get("members") or [q.get("node")]) for q in found}
    elif shutil.which("rabbitmqctl"):
        def ctl(*args):
            return subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, text=True,
                                  timeout=60).stdout
        out = ctl("list_queues", "-q", "--no-table-headers", "-p", vhost, "name", "members")
        members = {name: sorted(m.strip("[] ").replace(" ", "").split(",")) for name, _, m in
                   (line.partition("\t") for line in out.splitlines() if line.strip())}
        nodes = json.loads(ctl("cluster_status", "--formatter", "json"))["disk_nodes"]
    else:
        return None
    return {name: members.get(name, []) for name in queue_names}, sorted(nodes)


def command(vhost, definition, queue_names=QUEUES):
    return (f"rabbitmqctl set_policy -p {vhost} --apply-to queues --priority 10 {POLICY} "
            f"'{pattern(queue_names)}' '{json.dumps(definition)}'")
