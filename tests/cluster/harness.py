"""The whole multi-host shop, brought up and torn down: network, data host, RabbitMQ cluster, shop.

The harness itself runs in the root namespace, on the bridge (10.77.0.1): it places the
orders (through the web host's address, as a shopper would), keeps the SMTP sink the shop
mails receipts to, and checks the invariants with Django connected to the data host's
PostgreSQL and the cluster, by address.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.cluster import broker, net
from tests.cluster.hosts import BEAT_HOSTS, RECONCILE_INTERVAL, WORKER_HOSTS, DataHost, Shop

BASE_DIR = Path(__file__).resolve().parents[2]
ROOT = BASE_DIR / "var" / "cluster"
STRIPE_LATENCY = 0.5  # seconds added to every Stripe call (a charge makes two or three)
PARTITIONED_FROM = (*broker.NODES, "data")  # scenario (b): the broker and the database


class Harness:
    def __init__(self, root=ROOT, log=print):
        self.root = Path(root)
        self.log = log
        self.smtp = self.data = self.cluster = self.shop = self.stripe = None

    # --- up -----------------------------------------------------------------------------
    def up(self):
        started = time.monotonic()
        net.require_root()
        self._clean_var()
        net.setup()
        self.log(f"hosts: {', '.join(f'{n} {net.ip(n)}' for n in net.HOSTS)} (bridge {net.BRIDGE} {net.HARNESS_IP})")
        from tests.smtpsink import Sink

        self.smtp = Sink(host=net.HARNESS_IP).start()
        self.data = DataHost(self.root).start()
        self.log("data host: PostgreSQL, Redis, localstripe up")
        # Stripe, as the shop's hosts see it: outside every host (a worker cut off from the
        # broker and the database still reaches it), and as slow as the real one, so that
        # charges are in flight when a fault strikes. The proxy records who called, and when.
        from loadtest.faultproxy import FaultProxy

        self.stripe = FaultProxy(self.data.stripe.url(), host=net.HARNESS_IP).start()
        self.stripe.latency = STRIPE_LATENCY
        self.cluster = broker.Cluster(self.root / "rabbitmq").start()
        self.log(f"RabbitMQ cluster: {', '.join(self.cluster.running_nodes())} running")
        self.shop = Shop(self.root, self.data, self.smtp.url, self.stripe.url)
        self._django()
        self._prepare()
        self.shop.web()
        for host in WORKER_HOSTS:
            self.shop.workers(host)
        for host in BEAT_HOSTS:
            self.shop.beat(host)
        self.log(f"shop up: web, workers on {', '.join(WORKER_HOSTS)}, beat on {', '.join(BEAT_HOSTS)} "
                 f"({time.monotonic() - started:.0f} s)")
        return self

    def _clean_var(self):
        """A fresh run: the last run's data, logs and node directories go (never the results)."""
        import shutil

        net.teardown()  # a crashed earlier run's processes first: they may hold these files
        for sub in ("data", "rabbitmq", "hosts", "logs"):
            shutil.rmtree(self.root / sub, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)

    def _django(self):
        """This process's Django: the data host and the cluster, by address."""
        env = self.shop.env("harness", via="ip")
        os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "STRIPE_API_BASE", "EMAIL_URL",
                                              "HARBOR_VAR_DIR", "SITE_URL", "DJANGO_SETTINGS_MODULE")})
        os.environ["CELERY_BROKER_URL"] = broker.url(broker.NODES[0])
        os.environ["RABBITMQCTL"] = self.cluster.ctl_command()  # tests/rabbit.py: this cluster, not the machine's
        import django

        django.setup()

    def manage(self, *args, host=None):
        argv = [sys.executable, "manage.py", *args]
        env = self.shop.env(host or "harness", via="name" if host else "ip")
        result = subprocess.run(net.in_ns(host, *argv) if host else argv, env=env, cwd=BASE_DIR,
                                capture_output=True, text=True, timeout=300)
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)}: {result.stderr[-2000:]}")
        return result.stdout

    def _prepare(self):
        self.manage("migrate", "--noinput")
        self.manage("setup_periodic_tasks", "--reconcile-interval", str(RECONCILE_INTERVAL))
        out = self.cluster.setup_rabbitmq(self.shop.env(broker.NODES[0]))  # the shop's own ';' list of nodes
        self.log("setup_rabbitmq: " + " | ".join(out.splitlines()))
        members = {row["name"]: row.get("members") for row in self.cluster.queues("type", "members")
                   if row.get("type") == "quorum"}
        short = [q for q, m in members.items() if len(m or []) != len(broker.NODES)]
        if short:
            raise RuntimeError(f"quorum queues not on all three nodes: {members}")
        self.log(f"quorum queues on {', '.join(members['payments'])}: {', '.join(sorted(members))}")

    # --- between scenarios --------------------------------------------------------------
    def restore(self):
        """Every host as at the start: a killed node restarted, a lost worker or Beat host
        replaced (started again), links up. Then wait until the cluster is whole."""
        for node in self.cluster.nodes.values():
            if node.down:
                node.start().await_startup()
        net.uncut("web", broker.NODES)
        for host in WORKER_HOSTS:
            net.uncut(host, PARTITIONED_FROM)
        for host in WORKER_HOSTS:
            if not any(k.startswith(f"{host}/") for k in self.shop.processes):
                self.log(f"  restore: {host} replaced (its workers started again)")
                self.shop.workers(host)
        for host in BEAT_HOSTS:
            if f"{host}/beat" not in self.shop.processes:
                self.log(f"  restore: {host} replaced (Beat started again)")
                self.shop.beat(host)
        if not self.cluster.wait_members_online("payments"):
            raise RuntimeError("the payments queue did not get all three members back")
        os.environ["RABBITMQCTL"] = self.cluster.ctl_command()

    def broker_url(self):
        """One live node's URL, for this process's own looks at the queues."""
        return broker.url(self.cluster.live().host)

    # --- what assert_invariants needs of a "stack" --------------------------------------
    def settle(self, timeout=120):
        from tests.realworker import settle

        os.environ["RABBITMQCTL"] = self.cluster.ctl_command()
        return settle(timeout, broker_url=self.broker_url(), quiet=3)

    def logs(self):
        return self.shop.tails() if self.shop else ""

    # --- down ---------------------------------------------------------------------------
    def down(self):
        for part in (self.shop, self.cluster, self.stripe, self.data, self.smtp):
            if part is not None:
                try:
                    part.stop()
                except Exception as exc:  # teardown goes on whatever one part did
                    self.log(f"teardown: {type(part).__name__}: {exc}")
        net.teardown()
