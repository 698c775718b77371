"""The test hosts: one Linux network namespace each, on a bridge in the root namespace.

    root namespace   hb-br0 10.77.0.1/24   the harness: the order stream, the SMTP sink, the checks
    rabbit-1..3      10.77.0.11-13         a RabbitMQ node each (epmd and ports of its own)
    data             10.77.0.20            PostgreSQL, Redis, localstripe
    web              10.77.0.30            gunicorn
    worker-a, -b     10.77.0.41-42         the payments, fulfillment/notifications and webhooks workers
    beat-1, -2       10.77.0.51-52         Celery Beat (one sends at a time: the lease)

Each namespace has its loopback up and a veth pair whose other end is a port of hb-br0, and
an /etc/netns/<ns>/hosts naming every host (`ip netns exec` bind-mounts it over /etc/hosts, so
rabbit@rabbit-2 resolves inside the namespaces and nowhere else). The addresses are used only
inside this bridge; the machine's own services (RabbitMQ on 127.0.0.1:5672, PostgreSQL, Redis)
live in the root namespace's loopback and are never touched.

setup() first tears down whatever an earlier run left (killing the processes still in its
namespaces), so it is idempotent; teardown() is safe to call at any time, any number of times.

The faults a namespace can suffer (no netem, no netfilter on this kernel, and none needed):
- cut_from(): a permanent neighbour entry with a MAC address no host has, for each peer: the
  host's frames to those peers go nowhere (silently), the rest of its traffic flows;
- kill_all(): SIGKILL every process in the namespace (`ip netns pids`): the host is lost.
"""

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

SUBNET = "10.77.0"
BRIDGE = "hb-br0"
HARNESS_IP = f"{SUBNET}.1"
HOSTS = {"rabbit-1": 11, "rabbit-2": 12, "rabbit-3": 13, "data": 20, "web": 30,
         "worker-a": 41, "worker-b": 42, "beat-1": 51, "beat-2": 52}
NOWHERE_MAC = "02:00:00:00:de:ad"  # no veth has it: frames sent there are dropped by every port
NETNS_ETC = Path("/etc/netns")


def ip(name):
    return f"{SUBNET}.{HOSTS[name]}"


def veth(name):
    return f"hb-{name}"  # the bridge's end (root namespace); the host's end is hb0


def sh(*argv, check=True, timeout=30):
    return subprocess.run([str(a) for a in argv], check=check, capture_output=True, text=True, timeout=timeout)


def in_ns(name, *argv):
    """argv run inside the host's namespace, with its /etc/hosts."""
    return ["ip", "netns", "exec", name, *[str(a) for a in argv]]


def namespaces():
    out = sh("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def pids(name):
    out = sh("ip", "netns", "pids", name, check=False).stdout
    return [int(p) for p in out.split()]


def kill_all(name, sig=signal.SIGKILL):
    """Every process in the host's namespace killed; returns their pids."""
    killed = pids(name)
    for pid in killed:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    return killed


def wait_empty(name, timeout=15):
    deadline = time.monotonic() + timeout
    while pids(name) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not pids(name)


def hosts_file(name):
    """Every host by name; and the machine's hostname (which all namespaces share, as they
    share its UTS namespace) as this host's own address, for what resolves its own name
    (rabbitmqctl's Erlang node names itself after it)."""
    import socket

    lines = ["127.0.0.1 localhost", f"{HARNESS_IP} harness"] + [f"{ip(n)} {n}" for n in HOSTS]
    return "\n".join(lines + [f"{ip(name)} {socket.gethostname()}"]) + "\n"


def require_root():
    if os.geteuid() != 0:
        raise SystemExit("the cluster harness needs root (network namespaces, veth pairs, a bridge): "
                         "run it as root, e.g. sudo make cluster-test")
    for tool in ("ip",):
        if not shutil.which(tool):
            raise SystemExit(f"the cluster harness needs `{tool}` (Debian's iproute2)")


def setup():
    require_root()
    teardown()
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{HARNESS_IP}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for name in HOSTS:
        sh("ip", "netns", "add", name)
        (NETNS_ETC / name).mkdir(parents=True, exist_ok=True)
        (NETNS_ETC / name / "hosts").write_text(hosts_file(name))
        sh("ip", "link", "add", veth(name), "type", "veth", "peer", "name", "hb0", "netns", name)
        sh("ip", "link", "set", veth(name), "master", BRIDGE, "up")
        sh("ip", "-n", name, "addr", "add", f"{ip(name)}/24", "dev", "hb0")
        sh("ip", "-n", name, "link", "set", "hb0", "up")
        sh("ip", "-n", name, "link", "set", "lo", "up")


def teardown():
    """Kill what runs in the hosts, delete them and the bridge. Safe to call any time."""
    ours = [n for n in namespaces() if n in HOSTS]
    for name in ours:
        kill_all(name)
    for name in ours:
        wait_empty(name, timeout=10)
        sh("ip", "netns", "del", name, check=False)
    for name in HOSTS:
        shutil.rmtree(NETNS_ETC / name, ignore_errors=True)
        sh("ip", "link", "del", veth(name), check=False)  # normally gone with its namespace
    sh("ip", "link", "del", BRIDGE, check=False)


# --- faults -------------------------------------------------------------------------------

def cut_from(name, peers):
    for peer in peers:
        sh("ip", "-n", name, "neigh", "replace", ip(peer), "lladdr", NOWHERE_MAC, "dev", "hb0", "nud", "permanent")


def uncut(name, peers):
    for peer in peers:
        sh("ip", "-n", name, "neigh", "del", ip(peer), "dev", "hb0", check=False)


def counters(name):
    """The bridge end's counters for the host's veth: {rx_packets, tx_packets, tx_dropped, ...}
    (rx: what the host sent; tx_dropped: what could not be delivered to it)."""
    stats = Path(f"/sys/class/net/{veth(name)}/statistics")
    return {f.name: int(f.read_text()) for f in stats.iterdir()}


def can_connect(name, host, port, timeout=2.0):
    """From inside the host's namespace: does a TCP connection to host:port open within timeout?"""
    code = ("import socket,sys\n"
            f"try: socket.create_connection(({host!r}, {port}), timeout={timeout}).close()\n"
            "except OSError as e: print(type(e).__name__); sys.exit(1)\n")
    import sys

    result = subprocess.run(in_ns(name, sys.executable, "-c", code), capture_output=True, text=True,
                            timeout=timeout + 15)
    return result.returncode == 0, result.stdout.strip()
