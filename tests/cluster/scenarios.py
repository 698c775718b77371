"""The five faults, each injected during a stream of orders, each with the proof that it happened.

A scenario's fault(h, stream) runs in the harness's main thread while the stream runs in its
own; it waits until LEAD seconds of orders have gone out (a baseline), does the damage, and
returns {"fault_at", "healed_at" (epoch seconds), "proof": [lines]}. healed_at is when the
fault ended (the node restarted, the link healed), or the fault's own time for a loss that
never heals (the backlog it left is what "drained" then measures).
"""

import re
import time
from pathlib import Path

from tests.cluster import broker, net
from tests.cluster.hosts import BEAT_HOSTS, RECONCILE_INTERVAL

LEAD = 15  # seconds of orders before the fault


def _wait_until(epoch):
    time.sleep(max(0.0, epoch - time.time()))


def _host_of(node_name):
    return node_name.split("@", 1)[1]


def leader_killed(h, stream):
    """(a) SIGKILL the node leading the payments quorum queue; restart it after ~20 s."""
    _wait_until(stream.started + LEAD)
    before = h.cluster.leader("payments")
    node = h.cluster.nodes[_host_of(before["leader"])]
    pids = node.kill()
    fault_at = time.time()
    proof = [f"payments leader {before['leader']} (members {', '.join(before['members'])}): "
             f"SIGKILLed its Erlang VM, pids {pids}"]
    after = h.cluster.wait_leader_elsewhere("payments", before["leader"])
    proof.append(f"new payments leader: {after['leader'] if after else 'NONE'}, "
                 f"{time.time() - fault_at:.1f} s after the kill (online: {', '.join(after['online']) if after else '-'})")
    running = h.cluster.running_nodes()
    proof.append(f"running nodes meanwhile: {', '.join(running)}")
    _wait_until(fault_at + 20)
    node.start().await_startup()
    healed_at = time.time()
    back = h.cluster.wait_members_online("payments")
    proof.append(f"{node.name} restarted {healed_at - fault_at:.0f} s after the kill; payments online members: "
                 f"{', '.join(back['online']) if back else 'NOT ALL'}")
    return {"fault_at": fault_at, "healed_at": healed_at, "proof": proof,
            "ok": bool(after) and node.name not in running and bool(back)}


def _sent_by(host):
    """(tx_packets, tx_dropped) of the host's own end of its link: what it tried to send."""
    out = net.sh(*net.in_ns(host, "cat", "/sys/class/net/hb0/statistics/tx_packets",
                            "/sys/class/net/hb0/statistics/tx_dropped")).stdout.split()
    return int(out[0]), int(out[1])


def worker_partitioned(h, stream, host="worker-a", seconds=60):
    """(b) The worker host cut off from the broker and the database (the bridge's end of its
    link down: nothing it sends arrives, nothing reaches it) for 60 s, then healed."""
    _wait_until(stream.started + LEAD)
    busy = _tasks_in_flight(h, host)
    net.isolate(host)
    fault_at = time.time()
    arrived0, tried0 = net.counters(host)["rx_packets"], _sent_by(host)
    db_ok, db_err = net.can_connect(host, net.ip("data"), 5432)
    mq_ok, mq_err = net.can_connect(host, net.ip("rabbit-1"), broker.PORT)
    proof = [f"{host} isolated (bridge end of its link down); it had {busy} task(s) received and not yet done",
             f"from {host} during the partition: PostgreSQL {'REACHABLE' if db_ok else 'unreachable (' + db_err + ')'}"
             f", RabbitMQ {'REACHABLE' if mq_ok else 'unreachable (' + mq_err + ')'}"]
    _wait_until(fault_at + seconds)
    arrived1, tried1 = net.counters(host)["rx_packets"], _sent_by(host)
    net.reconnect(host)
    healed_at = time.time()
    time.sleep(2)
    db_back, _ = net.can_connect(host, net.ip("data"), 5432)
    proof.append(f"during {seconds} s {host}'s link sent {tried1[0] - tried0[0]} packets (dropped {tried1[1] - tried0[1]}), "
                 f"of which {arrived1 - arrived0} reached the bridge; healed: PostgreSQL "
                 f"{'reachable' if db_back else 'STILL UNREACHABLE'} again")
    return {"fault_at": fault_at, "healed_at": healed_at, "proof": proof,
            "ok": not db_ok and not mq_ok and arrived1 == arrived0 and db_back}


def _tasks_in_flight(h, host):
    """Tasks the host's workers logged as received minus those logged as finished."""
    received = finished = 0
    for line in ("payments", "worker"):
        text = Path(h.shop.log(host, line)).read_text(errors="replace")
        received += len(re.findall(r"Task \S+\[[0-9a-f-]+\] received", text))
        finished += len(re.findall(r"Task \S+\[[0-9a-f-]+\] (succeeded|retry|raised)", text))
    return max(0, received - finished)


def worker_lost(h, stream, host="worker-b"):
    """(c) Every process of the worker host SIGKILLed; it never comes back (this scenario)."""
    _wait_until(stream.started + LEAD)
    busy = _tasks_in_flight(h, host)
    killed = net.kill_all(host)
    fault_at = time.time()
    empty = net.wait_empty(host)
    h.shop.forget(host)
    proof = [f"{host}: SIGKILLed all {len(killed)} processes (pids {killed}); {busy} task(s) were in flight",
             f"processes left in {host}: {'none' if empty else net.pids(host)}"]
    return {"fault_at": fault_at, "healed_at": fault_at, "proof": proof, "ok": empty and bool(killed)}


def web_cut_from_broker(h, stream, seconds=30):
    """(d) The web host cannot reach any RabbitMQ node for 30 s (its frames to them go nowhere);
    it still reaches the database, so checkout goes on and Beat's reconciliation sends on."""
    _wait_until(stream.started + LEAD)
    log = Path(h.shop.log("web", "web"))
    failed_before = log.read_text(errors="replace").count("could not publish")
    net.cut_from("web", broker.NODES)
    fault_at = time.time()
    mq_ok, mq_err = net.can_connect("web", net.ip("rabbit-2"), broker.PORT)
    db_ok, _ = net.can_connect("web", net.ip("data"), 5432)
    _wait_until(fault_at + seconds)
    net.uncut("web", broker.NODES)
    healed_at = time.time()
    mq_back, _ = net.can_connect("web", net.ip("rabbit-2"), broker.PORT)
    failed = log.read_text(errors="replace").count("could not publish") - failed_before
    proof = [f"web cut from {', '.join(broker.NODES)} for {seconds} s: RabbitMQ "
             f"{'REACHABLE' if mq_ok else 'unreachable (' + mq_err + ')'}, PostgreSQL "
             f"{'reachable' if db_ok else 'UNREACHABLE'} meanwhile; RabbitMQ {'reachable' if mq_back else 'NOT'} after",
             f"web logged {failed} failed publish(es) ('could not publish'); reconciliation sent those orders on"]
    return {"fault_at": fault_at, "healed_at": healed_at, "proof": proof,
            "ok": not mq_ok and db_ok and mq_back and failed > 0}


def _sends(h, host):
    path = Path(h.shop.log(host, "beat"))
    return path.read_text(errors="replace").count("Sending due task") if path.exists() else 0


def lease_holder():
    """(host, token) of the Beat lease's holder, as Redis holds it (harbor/lease.py: the token
    is hostname:pid:random; every host here shares the hostname, the pid tells them apart)."""
    import redis
    from django.conf import settings

    token = redis.Redis.from_url(settings.REDIS_URL).get(settings.BEAT_LEASE_KEY)
    if not token:
        return None, None
    token = token.decode()
    pid = int(token.split(":")[1])
    host = next((h for h in BEAT_HOSTS if pid in net.pids(h)), None)
    return host, token


def sending_beats(h, window):
    """The Beat hosts whose log's 'Sending due task' count grows over `window` seconds."""
    before = {host: _sends(h, host) for host in BEAT_HOSTS if f"{host}/beat" in h.shop.processes}
    time.sleep(window)
    return [host for host in before if _sends(h, host) > before[host]]


def beat_host_lost(h, stream):
    """(e) The host of the Beat that holds the lease is lost (every process SIGKILLed); the
    standby takes the lease, sends, and reconciliation runs after."""
    window = 2.5 * RECONCILE_INTERVAL
    _wait_until(stream.started + LEAD - window)
    sending = sending_beats(h, window)
    holder, token = lease_holder()
    proof = [f"before: lease held by {holder} ({token}); sending due tasks over {window:.0f} s: "
             f"{', '.join(sending) or 'NONE'} (of {', '.join(BEAT_HOSTS)})"]
    killed = net.kill_all(holder) if holder else []
    fault_at = time.time()
    net.wait_empty(holder)
    h.shop.forget(holder)
    proof.append(f"{holder}: SIGKILLed all {len(killed)} processes (pids {killed})")
    standby = next(host for host in BEAT_HOSTS if host != holder)
    sends0 = _sends(h, standby)
    moved = sent = None
    while time.time() < fault_at + 90 and (moved is None or sent is None):
        if moved is None and lease_holder()[0] == standby:
            moved = time.time() - fault_at
        if sent is None and _sends(h, standby) > sends0:
            sent = time.time() - fault_at
        time.sleep(0.5)
    proof.append(f"lease moved to {standby} {moved:.1f} s after the loss ({lease_holder()[1]})" if moved is not None
                 else f"lease did NOT move to {standby} within 90 s")
    proof.append(f"{standby} sent its first due task {sent:.1f} s after the loss" if sent is not None
                 else f"{standby} sent nothing within 90 s")
    return {"fault_at": fault_at, "healed_at": fault_at, "proof": proof,
            "ok": sending == [holder] and bool(killed) and moved is not None and sent is not None}


def _reconciliations_since(epoch):
    """reconcile_stuck_orders runs whose results were stored after `epoch`."""
    from datetime import datetime, timezone

    from django_celery_results.models import TaskResult

    since = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return TaskResult.objects.filter(task_name="orders.tasks.reconcile_stuck_orders", date_done__gt=since).count()


def reconciliation_proof(h, result):
    """For (e), checked after the stream: reconciliation kept running after the loss."""
    ran = _reconciliations_since(result["fault_at"])
    result["proof"].append(f"reconcile_stuck_orders ran {ran} times after the loss")
    result["ok"] = result["ok"] and ran > 0


SCENARIOS = {
    "a": ("payments leader killed, restarted after 20 s", leader_killed),
    "b": ("worker-a partitioned from broker and database for 60 s", worker_partitioned),
    "c": ("worker-b lost (all processes SIGKILLed, never back)", worker_lost),
    "d": ("web cut from the broker for 30 s", web_cut_from_broker),
    "e": ("the Beat host holding the lease lost", beat_host_lost),
}
