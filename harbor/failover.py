"""Failing over between the nodes of a RabbitMQ cluster (CELERY_BROKER_URL = "url1;url2;url3").

kombu fails over inside one Connection object: after a failed attempt it switches the
connection to the next URL of the list (round-robin), and a connection that is pooled keeps
the URL it switched to. Two things in kombu 5.7 defeat that under Harbor's publish budget
(harbor/enqueue.py: a checkout spends at most CELERY_BROKER_CONNECTION_TIMEOUT, 1 s, on a
publish, and the connect timeout is that same second):

1. A connect attempt whose retry loop has run out of time or retries raises *before* kombu
   switches: `retry_over_time` checks `timeout` and `max_retries` first and only then calls
   the error handler that switches. A publish connects through `default_channel`, whose loop
   has `timeout` = the connect timeout, so a first node that does not answer (a lost host, a
   partition: the connect or the AMQP handshake waits out its timeout) uses the whole
   second, the loop gives up, and the pooled connection stays on that node: every later
   publish waits out the same node and fails, and no publish ever reaches the live ones.
2. Switching closes the old connection politely (Channel.Close, then Connection.Close) and
   waits for the answers on a socket without a timeout. After a publish on an established
   connection times out waiting for the node's confirm, kombu switches, and the publish (the
   checkout's request) then waits for a goodbye from a node that has gone: for ever, or
   until TCP gives up.

FailoverConnection fixes both, for every connection the Celery app makes (the publish pool,
the worker's consumer, Beat): a failed attempt always leaves the connection on the next URL,
and a switch drops the old socket at once, as kombu itself does after a connection error
(`collect()`), instead of waiting for a node that is not there. With one URL (no list)
nothing changes: there is nowhere to switch to.

Two more waits have no bound in Celery 5.5 / py-amqp, and both froze a worker whose node went
silent (seen with py-spy in the namespace harness):

3. A confirmed publish with no `confirm_timeout` waits for the node's Basic.Ack for ever. The
   worker publishes its task events that way, from its event loop, so one silent node stopped
   the worker consuming. Every channel a FailoverConnection opens caps that wait at
   CELERY_BROKER_CONFIRM_TIMEOUT (`bounded_confirms`); the publish then fails, kombu's
   connection-error path fails over, and Harbor's own publishes keep their tighter budget.
4. Celery's DelayedDelivery bootstep declares the native delayed-delivery exchanges on EVERY
   URL of the list, three attempts each, one second apart: with one node down a worker spent
   ~20 s on that before it consumed. The exchanges and their bindings live in the cluster,
   not on a node, so ClusterDelayedDelivery declares them once, through the first node that
   answers (the worker's Consumer, below, swaps it in).

Round-robin, not shuffle: kombu's `shufflecycle` picks a random URL at every switch, so it can
pick the dead node again; round-robin tries every other node before it comes back to one.
"""

import functools
import logging

from celery.app.amqp import AMQP as CeleryAMQP
from celery.worker.consumer import Consumer as CeleryConsumer
from celery.worker.consumer.delayed_delivery import DelayedDelivery
from django.conf import settings
from kombu import Connection
from kombu.connection import ConnectionPool, PooledConnection

logger = logging.getLogger(__name__)


class FailoverConnection(Connection):
    _moved_on = True  # switched to the next URL since the last failed attempt?

    def switch(self, conn_str):
        if self._connection is not None:
            self.collect()  # no Close/Close-Ok with a node that may be gone: drop the socket
        super().switch(conn_str)

    def maybe_switch_next(self):
        super().maybe_switch_next()
        self._moved_on = True

    def _connection_factory(self):
        self._moved_on = False
        return super()._connection_factory()

    def _ensure_connection(self, *args, **kwargs):
        try:
            return super()._ensure_connection(*args, **kwargs)
        except Exception:
            if not self._moved_on:  # the retry loop gave up before kombu's own switch
                self.maybe_switch_next()
            raise

    def Pool(self, limit=None, **kwargs):
        return FailoverConnectionPool(self, limit, **kwargs)

    def channel(self):
        return bounded_confirms(super().channel())


def bounded_confirms(channel):
    """Cap a confirmed publish's wait for the broker's ack (item 3 above). A caller's own
    `confirm_timeout` (harbor/enqueue.py's budget) is kept; only an unbounded wait is capped."""
    publish = getattr(channel, "basic_publish", None)
    confirming = getattr(type(channel), "basic_publish_confirm", None)
    if confirming is None or getattr(publish, "__func__", None) is not confirming:
        return channel  # not py-amqp in confirm mode (Redis, or already wrapped): nothing to cap

    @functools.wraps(publish)
    def basic_publish(*args, confirm_timeout=None, **kwargs):
        return publish(*args, confirm_timeout=confirm_timeout or settings.CELERY_BROKER_CONFIRM_TIMEOUT, **kwargs)

    channel.basic_publish = basic_publish
    return channel


class PooledFailoverConnection(PooledConnection, FailoverConnection):
    """A pooled connection (kombu's pool replaces it on an error) that fails over as above."""


class FailoverConnectionPool(ConnectionPool):
    def new(self):
        return PooledFailoverConnection(self, **dict(self.connection._info(resolve=False)))


class ClusterDelayedDelivery(DelayedDelivery):
    """Declare native delayed delivery once, through the first node that answers (item 4)."""

    def start(self, c):
        self._validate_configuration(c.app)
        with c.app.connection_for_write() as connection:
            ensure_connected(connection, c.app.conf.broker_connection_timeout or 4)
            try:
                self._setup_on(c, connection)
            except Exception as exc:  # as Celery's step: logged, the worker still consumes
                logger.critical("Failed to set up native delayed delivery: %s", exc)

    def _setup_on(self, c, connection):
        from kombu.transport.native_delayed_delivery import declare_native_delayed_delivery_exchanges_and_queues

        declare_native_delayed_delivery_exchanges_and_queues(
            connection, c.app.conf.broker_native_delayed_delivery_queue_type)
        self._bind_queues(c.app, connection)


class Consumer(CeleryConsumer):
    """The worker's consumer (CELERY_WORKER_CONSUMER), with ClusterDelayedDelivery."""

    class Blueprint(CeleryConsumer.Blueprint):
        default_steps = [("harbor.failover:ClusterDelayedDelivery"
                          if step == "celery.worker.consumer.delayed_delivery:DelayedDelivery" else step)
                         for step in CeleryConsumer.Blueprint.default_steps]


class AMQP(CeleryAMQP):
    """Celery's AMQP helper, making FailoverConnections (Celery(amqp="harbor.failover:AMQP"))."""

    Connection = FailoverConnection


def ensure_connected(conn, timeout):
    """Connect `conn` (if it is not) to the first node that answers, allowing each node of a
    cluster `timeout` seconds: a quick check (/healthz, harbor_status) finds the broker up while
    any node is, instead of reporting the first node's outage as the broker's."""
    nodes = len(conn.alt) or 1
    return conn.ensure_connection(max_retries=max(1, nodes - 1), interval_start=0, interval_step=0,
                                  timeout=timeout * nodes)
