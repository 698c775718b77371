"""A three-node RabbitMQ cluster from Debian's rabbitmq-server, one node per namespace.

Each node has its own name (rabbit@rabbit-N), data directory (mnesia), logs, config and
plugins files under var/cluster/rabbit-N/, and a HOME whose .erlang.cookie all three share.
Its own rabbitmq-env.conf (empty) stands in for the machine's /etc/rabbitmq/rabbitmq-env.conf,
which pins the machine's node to 127.0.0.1 and would pin these too. epmd and the ports are the
standard ones: each namespace has a port space of its own.

The nodes boot alone, then rabbit-2 and rabbit-3 join rabbit-1 (`rabbitmqctl join_cluster`).
`manage.py setup_rabbitmq` then declares the quorum queues (members on all three: a quorum
queue's initial group is every running node) and the dead-letter policy, through a
rabbitmqctl wrapper that names the node (bin/rabbitmqctl in the node's directory).

rabbitmqctl is an Erlang node itself: it runs inside a live node's namespace (where the
node names resolve and that node's epmd answers), and costs about a second of CPU a call,
so the harness calls it sparingly.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.cluster import net

NODES = ("rabbit-1", "rabbit-2", "rabbit-3")
SBIN = Path("/usr/lib/rabbitmq/bin")
PORT = 5672
USER = "guest"  # allowed from other hosts here (loopback_users = none)

CONFIG = """\
listeners.tcp.default = {port}
loopback_users = none
cluster_partition_handling = pause_minority
# Dead peers are noticed in ~20 s (two missed heartbeats); clients may ask for less.
heartbeat = 10
consumer_timeout = 1800000
disk_free_limit.absolute = 50MB
log.file.level = info
log.console = false
"""


def node_name(host):
    return f"rabbit@{host}"


def url(host, via="ip", vhost=""):
    address = net.ip(host) if via == "ip" else host
    return f"amqp://{USER}:{USER}@{address}:{PORT}/{vhost}"


def url_list(via="ip"):
    """The `;`-separated list Celery fails over along (Harbor's CELERY_BROKER_URL)."""
    return ";".join(url(host, via) for host in NODES)


class Node:
    def __init__(self, root, host, cookie):
        self.host, self.name = host, node_name(host)
        self.dir = Path(root) / host
        self.cookie = cookie
        self.process = None
        self.down = True  # as far as the harness knows: a killed node is never asked anything

    @property
    def env(self):
        d = self.dir
        return {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(d / "home"), "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(d / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_PID_FILE": str(d / "rabbit.pid"),
            # One scheduler thread: three nodes share two cores with the whole shop.
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "+S 1:1",
        }

    def write_config(self):
        home = self.dir / "home"
        home.mkdir(parents=True, exist_ok=True)
        for sub in ("mnesia", "log", "bin"):
            (self.dir / sub).mkdir(exist_ok=True)
        cookie = home / ".erlang.cookie"
        if cookie.exists():
            cookie.chmod(0o600)
        cookie.write_text(self.cookie)
        cookie.chmod(0o400)
        (self.dir / "rabbitmq-env.conf").write_text("# the harness's node: nothing from /etc/rabbitmq\n")
        (self.dir / "rabbitmq.conf").write_text(CONFIG.format(port=PORT))
        (self.dir / "enabled_plugins").write_text("[].\n")
        wrapper = self.dir / "bin" / "rabbitmqctl"
        exports = " ".join(f"{k}='{v}'" for k, v in self.env.items() if k != "PATH")
        wrapper.write_text(f"#!/bin/sh\n# rabbitmqctl for {self.name} (run it inside namespace {self.host})\n"
                           f"exec env {exports} {SBIN / 'rabbitmqctl'} -n {self.name} \"$@\"\n")
        wrapper.chmod(0o755)

    def start(self):
        log = open(self.dir / "server.log", "ab")
        self.process = subprocess.Popen(net.in_ns(self.host, SBIN / "rabbitmq-server"), env=self.env, stdout=log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.down = False
        return self

    def await_startup(self, timeout=120):
        """Until the node has booted (asked again while it is not even reachable yet)."""
        deadline = time.monotonic() + timeout
        while True:
            result = subprocess.run([*self.ctl_argv(), "await_startup"], capture_output=True, text=True,
                                    timeout=timeout)
            if result.returncode == 0:
                return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start: {result.stderr or result.stdout}; "
                                   f"see {self.dir}/server.log and {self.dir}/log/")
            time.sleep(2)

    def ctl_argv(self):
        return net.in_ns(self.host, self.dir / "bin" / "rabbitmqctl")

    def ctl(self, *args, timeout=60, check=True):
        result = subprocess.run([*self.ctl_argv(), *args], capture_output=True, text=True, timeout=timeout)
        if check and result.returncode:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.name}: {result.stderr or result.stdout}")
        return result.stdout

    def beam_pids(self):
        """The node's Erlang VM (beam.smp and its helpers): the processes of its session."""
        import psutil

        if self.process is None:
            return []
        found = []
        for proc in psutil.process_iter(["pid"]):
            try:
                if os.getsid(proc.pid) == self.process.pid:
                    found.append(proc.pid)
            except (ProcessLookupError, PermissionError):
                continue
        return found

    def kill(self):
        """SIGKILL, no goodbye to its peers. Returns the pids killed."""
        pids = self.beam_pids()
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.down = True
        return pids

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()
        self.down = True


class Cluster:
    def __init__(self, root):
        self.root = Path(root)
        cookie_file = self.root / "cookie"
        self.root.mkdir(parents=True, exist_ok=True)
        if not cookie_file.exists():
            cookie_file.write_text(secrets.token_hex(20).upper())
        self.nodes = {host: Node(self.root, host, cookie_file.read_text()) for host in NODES}

    def start(self):
        for node in self.nodes.values():
            node.write_config()
            node.start()
        for node in self.nodes.values():
            node.await_startup()
        first = self.nodes[NODES[0]]
        for node in list(self.nodes.values())[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.name)
            node.ctl("start_app")
        running = self.running_nodes()
        if sorted(running) != sorted(n.name for n in self.nodes.values()):
            raise RuntimeError(f"the cluster formed with {running}")
        return self

    def live(self):
        """A node the harness has not killed (for rabbitmqctl)."""
        return next(node for node in self.nodes.values() if not node.down)

    def ctl(self, *args, **kwargs):
        return self.live().ctl(*args, **kwargs)

    def ctl_command(self):
        """RABBITMQCTL for tests/rabbit.py: its rabbitmqctl, on a live node of this cluster."""
        return " ".join(str(a) for a in self.live().ctl_argv())

    def running_nodes(self):
        status = json.loads(self.ctl("cluster_status", "--formatter", "json"))
        return status.get("running_nodes", [])

    def queues(self, *columns):
        """[{name, …columns}] of the default vhost's queues (JSON, as rabbitmqctl formats it)."""
        out = self.ctl("list_queues", "-p", "/", "name", *columns, "--formatter", "json", "-q")
        return json.loads(out or "[]")

    def leader(self, queue="payments"):
        for row in self.queues("leader", "members", "online"):
            if row["name"] == queue:
                return row
        raise LookupError(queue)

    def wait_leader_elsewhere(self, queue, old_leader, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                row = self.leader(queue)
                if row.get("leader") and row["leader"] != old_leader:
                    return row
            except (RuntimeError, subprocess.TimeoutExpired, LookupError):
                pass
            time.sleep(1)
        return None

    def wait_members_online(self, queue="payments", timeout=90):
        """Until every node is back in the queue's online members."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                row = self.leader(queue)
                if len(row.get("online") or []) == len(NODES):
                    return row
            except (RuntimeError, subprocess.TimeoutExpired, LookupError):
                pass
            time.sleep(2)
        return None

    def setup_rabbitmq(self, env):
        """Harbor's own `manage.py setup_rabbitmq`, run on rabbit-1's host against the cluster."""
        node = self.live()
        path = f"{node.dir / 'bin'}{os.pathsep}{env.get('PATH', '')}"  # its rabbitmqctl: the node's
        result = subprocess.run(net.in_ns(node.host, sys.executable, "manage.py", "setup_rabbitmq"),
                                env={**env, "PATH": path, "RABBITMQ_MANAGEMENT_URL": ""}, capture_output=True,
                                text=True, timeout=180, cwd=Path(__file__).resolve().parents[2])
        if result.returncode:
            raise RuntimeError(f"setup_rabbitmq failed: {result.stderr or result.stdout}")
        return result.stdout

    def stop(self):
        for node in self.nodes.values():
            node.stop()
