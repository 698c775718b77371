"""The broker, as the settings describe it to Celery: the three queues and the timing rule.

Redis in development and tests, RabbitMQ in production (ENVIRONMENT=prod, or any amqp://
URL). On RabbitMQ the queues are quorum queues (replicated, with a delivery limit) on topic
exchanges, so Celery's native delayed delivery keeps a retry's countdown in the broker
(celery_delayed_* queues) instead of as an unacknowledged message in the worker; a direct
exchange makes Celery fall back to holding it. Publishes are confirmed by the broker.

A RabbitMQ cluster is a list of its nodes' URLs separated by `;` (kombu's failover syntax):
every process tries them in turn (round-robin) when the node it uses stops answering
(harbor/failover.py). Every URL in the list is a node of the same cluster: the same scheme,
the same vhost (setup_rabbitmq's policy and the quorum queues live in one vhost).
"""

from urllib.parse import unquote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

QUEUES = ("payments", "fulfillment", "notifications", "webhooks")
DEAD_LETTER_EXCHANGE, DEAD_LETTER_QUEUE = "harbor.dlx", "dead_letters"
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")


def urls(broker_url):
    """The URLs of a broker URL that may be a `;`-separated list (one per cluster node)."""
    return [url.strip() for url in broker_url.split(";") if url.strip()]


def is_amqp(broker_url):
    """Is the broker (a URL, or a `;` list of them) RabbitMQ?"""
    return urls(broker_url)[0].split("://", 1)[0] in AMQP_SCHEMES if broker_url.strip() else False


def vhost_of(url):
    """The AMQP vhost of a URL (of a list: its first; check_urls() makes them all one)."""
    path = urlsplit(urls(url)[0]).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def safe(broker_url):
    """The broker URL(s) without passwords, for messages and logs."""
    def masked(url):
        parts = urlsplit(url)
        if parts.password is None:
            return url
        return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{parts.netloc.rpartition('@')[2]}"))
    return ";".join(masked(url) for url in urls(broker_url))


def check_urls(broker_url):
    """A list of broker URLs names the nodes of one RabbitMQ cluster: refuse anything else."""
    found = urls(broker_url)
    if not found:
        raise ImproperlyConfigured("The broker URL is empty")
    if len(found) == 1:
        return found
    if not all(url.split("://", 1)[0] in AMQP_SCHEMES for url in found):
        raise ImproperlyConfigured(f"A list of broker URLs is for the nodes of one RabbitMQ cluster (amqp://…), "
                                   f"not {safe(broker_url)}")
    if len({vhost_of(url) for url in found}) > 1:
        raise ImproperlyConfigured(f"The broker URLs name different vhosts ({safe(broker_url)}): the nodes of one "
                                   "cluster serve one vhost, which setup_rabbitmq sets up")
    return found


def queues(amqp):
    """On RabbitMQ: quorum queues on topic exchanges (native delayed delivery needs topic).
    On Redis: direct exchanges, as before; kombu's Redis topic routing drops a message when its
    binding table is missing (e.g. after Redis lost its data), and Redis has no delayed delivery."""
    arguments = {"x-queue-type": "quorum"} if amqp else None
    return [Queue(name, Exchange(name, type="topic" if amqp else "direct"), routing_key=name,
                  queue_arguments=arguments) for name in QUEUES]


def transport_options(amqp, visibility_timeout):
    if amqp:
        # Publisher confirms: a publish the broker did not take raises instead of vanishing.
        return {"confirm_publish": True}
    return {"visibility_timeout": visibility_timeout,  # Redis: redeliver unacked after this
            "socket_connect_timeout": 2, "socket_timeout": 5}


def check_timing(*, soft, hard, lock_ttl, backoff_max, amqp, visibility_timeout, consumer_timeout,
                 prefetch_multiplier, heartbeat=None):
    """The timing rule. A run is stopped (time limit, or its calls' deadlines) before its order
    lock can expire, and the lock expires before the broker would redeliver the message:
    Redis redelivers an unacknowledged message after the visibility timeout (a retry's
    countdown, held by the worker, must be shorter too); RabbitMQ closes a channel whose
    delivery was not acknowledged within consumer_timeout (retries wait in the broker there,
    but a message reserved behind a busy task waits in the worker)."""
    if not soft < hard < lock_ttl:
        raise ImproperlyConfigured("Need CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < ORDER_LOCK_TTL")
    if amqp:
        # Heartbeats tell a worker that its node went silent (a lost host, a partition): without
        # them it would wait for TCP keepalive (minutes) before it fails over to another node.
        if heartbeat is not None and heartbeat <= 0:
            raise ImproperlyConfigured("Need CELERY_BROKER_HEARTBEAT > 0 on RabbitMQ (seconds)")
        longest_unacked = (prefetch_multiplier * len(QUEUES) + 1) * hard
        if not (lock_ttl < consumer_timeout and longest_unacked < consumer_timeout):
            raise ImproperlyConfigured(
                f"Need ORDER_LOCK_TTL and (prefetch × queues + 1) × CELERY_TASK_TIME_LIMIT ({longest_unacked} s) "
                f"< RABBITMQ_CONSUMER_TIMEOUT ({consumer_timeout} s, RabbitMQ's consumer_timeout)")
    elif not (lock_ttl < visibility_timeout and backoff_max < visibility_timeout):
        raise ImproperlyConfigured("Need ORDER_LOCK_TTL < CELERY_VISIBILITY_TIMEOUT and "
                                   "TASK_RETRY_BACKOFF_MAX < CELERY_VISIBILITY_TIMEOUT")
