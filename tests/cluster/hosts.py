"""What runs on the test hosts besides RabbitMQ: the data host's servers and the shop.

data      the embedded PostgreSQL and Redis that `make run` uses (harbor/devservices), and
          localstripe, here listening on the data host's address inside its namespace (the
          shop reaches it through the harness's proxy, as Stripe is outside every host);
web       gunicorn, the Procfile's web line (on 0.0.0.0:8000 of its host);
worker-a  the Procfile's payments, worker (fulfillment, notifications) and webhooks lines;
worker-b  the same;
beat-1/2  the Procfile's beat line, on each (the lease lets one send at a time).

Every process is started with `ip netns exec <host>` and the Procfile's own command line,
with `%h` (Celery's node name) replaced by the host's name: all namespaces share the
machine's hostname, and two workers named payments@<same> would be one node to Celery.
Each host has a HARBOR_VAR_DIR of its own (var/cluster/hosts/<host>/): no host reads a
file another host wrote (labels must come from the database, as they would across machines).
The SMTP sink is the outside world's mail server: it runs in the harness (root namespace,
on the bridge's address).
"""

import os
import shlex
import signal
import sys
from pathlib import Path

from harbor.devservices.servers import LocalStripe, Postgres, Redis
from loadtest.shop import NO_LIMITS, Process, procfile
from tests.cluster import broker, net
from tests.faults.stack import TIMINGS

BASE_DIR = Path(__file__).resolve().parents[2]
DATA = "data"
WEB_PORT = 8000
WORKER_HOSTS = ("worker-a", "worker-b")
BEAT_HOSTS = ("beat-1", "beat-2")
WORKER_LINES = ("payments", "worker", "webhooks")
# Test-scale timings (the fault matrix's), reconciliation a little less eager under a steady
# stream: every 10 s, for orders pending/paid 10 s. Beat's lease: 6 s, so a standby takes over
# within 8 s (< one reconciliation interval, as harbor/lease.py check_timing requires).
RECONCILE_INTERVAL = 10
SHOP_TIMINGS = {**TIMINGS, "RECONCILE_AFTER": "10", "RECONCILE_INTERVAL": str(RECONCILE_INTERVAL),
                "BEAT_LEASE_TTL": "6", "CELERY_BROKER_HEARTBEAT": "10"}


class _InDataHost:
    """A devservices server run inside the data host's namespace, on its address and a fixed port."""

    host = net.ip(DATA)

    def __init__(self, root, port):
        super().__init__(root, durable=False)
        self.fixed_port = port

    def choose_port(self):
        return self.fixed_port

    def adopt(self):
        return False  # a fresh namespace each run: nothing to adopt

    def netns(self, command, user=None):
        argv = ["nsenter", f"--net=/run/netns/{DATA}"]
        if user:  # PostgreSQL will not run as root: enter the namespace as root, then drop to the user
            import pwd

            entry = pwd.getpwnam(user)
            argv += ["-S", str(entry.pw_uid), "-G", str(entry.pw_gid)]
        return argv + ["--", *[str(c) for c in command]]


class DataPostgres(_InDataHost, Postgres):
    _preparing = False

    def run_as(self):
        # initdb (prepare) runs as the user directly; the server is started by nsenter as root,
        # which enters the namespace and then becomes the user (command below).
        return super().run_as() if self._preparing else None

    def prepare(self):
        self._preparing = True
        try:
            super().prepare()
        finally:
            self._preparing = False
        hba = self.dir / "data" / "pg_hba.conf"
        line = f"host all all {net.SUBNET}.0/24 trust\n"
        if line not in hba.read_text():
            with open(hba, "a") as f:
                f.write(line)

    def command(self):
        cmd = [str(c) for c in super().command()]
        cmd[cmd.index("-h") + 1] = self.host
        user = "embedded_postgres" if os.geteuid() == 0 else None
        return self.netns(cmd + ["-c", "max_connections=400"], user=user)

    def url(self, database=None, host=None):
        return f"postgres://postgres@{host or self.host}:{self.port}/{database or self.database}"


class DataRedis(_InDataHost, Redis):
    def command(self):
        cmd = [str(c) for c in super().command()]
        cmd[cmd.index("--bind") + 1] = self.host
        cmd[cmd.index("--protected-mode") + 1] = "no"  # reached from the other hosts, no password
        return self.netns(cmd)

    def ready(self):
        import redis

        try:
            return redis.Redis(host=self.host, port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False

    def url(self, host=None):
        return f"redis://{host or self.host}:{self.port}/0"


class DataStripe(_InDataHost, LocalStripe):
    def command(self):
        return self.netns([*super().command(), "--host", self.host])

    def ready(self):
        from harbor.devservices.base import port_open

        return port_open(self.port, self.host)

    def url(self, host=None):
        return f"http://{host or self.host}:{self.port}"


class DataHost:
    def __init__(self, root):
        root = Path(root) / DATA
        self.postgres, self.redis, self.stripe = DataPostgres(root, 5432), DataRedis(root, 6379), DataStripe(root, 8420)

    def start(self):
        for server in (self.postgres, self.redis, self.stripe):
            server.start()
        return self

    def stop(self):
        for server in (self.stripe, self.redis, self.postgres):
            server.stop()


class Shop:
    """The shop's processes on their hosts (loadtest.shop.Process: a session each, a log file)."""

    def __init__(self, root, data, email_url, stripe_url):
        self.root = Path(root)
        self.data, self.email_url, self.stripe_url = data, email_url, stripe_url
        self.processes = {}  # "<host>/<line>" -> Process

    def env(self, host, via="name"):
        """The environment of a process on `host` (via="name": as the hosts see each other;
        via="ip": for the harness in the root namespace, where the names do not resolve)."""
        name = DATA if via == "name" else None
        bin_dir = str(Path(sys.executable).parent)
        var = self.root / "hosts" / host
        var.mkdir(parents=True, exist_ok=True)
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "CELERY_",
                                                                          "STRIPE_", "RABBITMQ"))}
        return {**clean, **SHOP_TIMINGS, **NO_LIMITS,
                "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                "DJANGO_SETTINGS_MODULE": "harbor.settings",
                "DATABASE_URL": self.data.postgres.url(host=name),
                "REDIS_URL": self.data.redis.url(host=name),
                # The shop's hosts call Stripe through the harness's proxy (latency, and who called
                # when); the harness's own audit asks localstripe directly.
                "STRIPE_API_BASE": self.stripe_url if via == "name" else self.data.stripe.url(),
                "CELERY_BROKER_URL": broker.url_list(via=via),
                "EMAIL_URL": self.email_url,
                "SITE_URL": f"http://{net.ip('web')}:{WEB_PORT}",
                "ALLOWED_HOSTS": f"{net.ip('web')},web,127.0.0.1,localhost",  # shoppers reach web by address
                "HARBOR_VAR_DIR": str(var)}

    def start(self, host, line, ready):
        command = procfile()[line].replace("%h", host)
        if line == "web":
            command = command.replace("127.0.0.1:${PORT}", f"0.0.0.0:{WEB_PORT}")
        if line == "beat":
            # Every host here shares one disk and one working directory: no pidfile (each
            # host of a real deployment has its own celerybeat.pid; two here would collide).
            command += " --pidfile="
        log = self.root / "logs" / f"{host}-{line}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        process = Process(f"{host}/{line}", net.in_ns(host, *shlex.split(command)), self.env(host), log)
        self.processes[f"{host}/{line}"] = process
        return process.wait_for(ready, timeout=120)

    def web(self):
        import time

        import requests

        process = self.start("web", "web", "Booting worker")
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{self.url}/livez", timeout=3)
                return process
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    @property
    def url(self):
        return f"http://{net.ip('web')}:{WEB_PORT}"

    def workers(self, host):
        return [self.start(host, line, "ready.") for line in WORKER_LINES]

    def beat(self, host):
        return self.start(host, "beat", "beat: Starting")

    def forget(self, host):
        """The host's processes are gone (killed with the host): reap them, drop them."""
        for key in [k for k in self.processes if k.startswith(f"{host}/")]:
            process = self.processes.pop(key)
            process.popen.wait()

    def log(self, host, line):
        return self.root / "logs" / f"{host}-{line}.log"

    def stop(self):
        for key in reversed(list(self.processes)):
            self.processes.pop(key).stop(timeout=15)

    def tails(self, lines=30):
        out = []
        for key, process in self.processes.items():
            text = Path(process.log_path).read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {key} ---\n" + "\n".join(text))
        return "\n\n".join(out)


def signal_host(host, sig=signal.SIGKILL):
    return net.kill_all(host, sig)
