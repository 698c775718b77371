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


def worker_partitioned(h, stream, host="worker-a", seconds=60):
    """(b) The worker host cut off from the broker and the database for 60 s, then healed, at
    a moment when it holds orders mid-charge (their fulfill_order received, not finished:
    each holds its order's Redis lock). Its frames to the RabbitMQ nodes and to the data host
    go nowhere (net.cut_from); Stripe, outside every host, it still reaches, so a charge it
    had begun can complete while another worker takes the same order over."""
    from tests.cluster.harness import PARTITIONED_FROM

    _wait_until(stream.started + LEAD)
    in_flight, call = _wait_charging(h, host)
    net.cut_from(host, PARTITIONED_FROM)
    fault_at = time.time()
    db_ok, db_err = net.can_connect(host, net.ip("data"), 5432)
    mq_ok, mq_err = net.can_connect(host, net.ip("rabbit-1"), broker.PORT)
    stripe_ok, _ = net.can_connect(host, net.HARNESS_IP, h.stripe.server.server_port)
    proof = [f"{host} cut off from {', '.join(PARTITIONED_FROM)} holding {len(in_flight)} order(s) mid-charge "
             f"(fulfill_order received, not finished): {', '.join(o[:8] for o in in_flight)}",
             f"from {host} during the partition: PostgreSQL {'REACHABLE' if db_ok else 'unreachable (' + db_err + ')'}"
             f", RabbitMQ {'REACHABLE' if mq_ok else 'unreachable (' + mq_err + ')'}"
             f", Stripe {'reachable' if stripe_ok else 'UNREACHABLE'}"]
    _wait_until(fault_at + seconds)
    net.uncut(host, PARTITIONED_FROM)
    healed_at = time.time()
    time.sleep(2)
    db_back, _ = net.can_connect(host, net.ip("data"), 5432)
    calls = [c for c in h.stripe.log if c.client == net.ip(host) and fault_at <= c.at <= healed_at]
    proof.append(_charging_proof(host, call))
    proof.append(f"Stripe calls from {host} during the partition: {len(calls)}; healed: PostgreSQL "
                 f"{'reachable' if db_back else 'STILL UNREACHABLE'} again")
    return {"fault_at": fault_at, "healed_at": healed_at, "proof": proof, "in_flight": in_flight,
            "ok": not db_ok and not mq_ok and stripe_ok and db_back and call is not None and call.forwarded}


_RECEIVED = re.compile(r"Task orders\.tasks\.fulfill_order\[([0-9a-f-]+)\] received .*?'args': \"\('([0-9a-f-]+)',")
_FINISHED = re.compile(r"Task orders\.tasks\.fulfill_order\[([0-9a-f-]+)\] (?:succeeded|retry|raised|failed)")


def _in_flight(h, host):
    """The orders whose fulfill_order the host's payments worker logged as received and not
    (yet) as finished: each is mid-charge there, holding its order's lock."""
    text = Path(h.shop.log(host, "payments")).read_text(errors="replace")
    received = dict(_RECEIVED.findall(text))  # task id -> order id
    for task_id in _FINISHED.findall(text):
        received.pop(task_id, None)
    return sorted(set(received.values()))


def _wait_charging(h, host, timeout=30):
    """Until the host has a PaymentIntent's confirm (the call that charges) at Stripe, still
    unanswered (the proxy holds it for its latency, then forwards it): the fault then strikes
    mid-charge. Returns (the orders the host holds
    mid-charge, that Stripe call)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pending = [c for c in list(h.stripe.log) if c.client == net.ip(host) and not c.forwarded
                   and c.idempotency_key.startswith("harbor-order-") and c.idempotency_key.endswith("-confirm")]
        if pending:
            call = pending[-1]
            order = call.idempotency_key[len("harbor-order-"):][:36]  # a UUID; the step follows
            return sorted(set(_in_flight(h, host)) | {order}), call
        time.sleep(0.02)
    return _in_flight(h, host), None


def _charging_proof(host, call):
    if call is None:
        return f"no Stripe call from {host} was in flight at the fault"
    return (f"{host}'s {call.method} {call.path.split('?')[0]} (Idempotency-Key {call.idempotency_key}) was in flight "
            f"at Stripe at the fault; Stripe {'processed it (' + str(call.upstream_status) + ')' if call.forwarded else 'never got it'}"
            f"{', and the answer reached ' + host if call.answered else ', its answer never reached ' + host}")


def worker_lost(h, stream, host="worker-b"):
    """(c) Every process of the worker host SIGKILLed, while it holds orders mid-charge (their
    messages unacknowledged); it never comes back (this scenario)."""
    _wait_until(stream.started + LEAD)
    in_flight, call = _wait_charging(h, host)
    killed = net.kill_all(host)
    fault_at = time.time()
    empty = net.wait_empty(host)
    h.shop.forget(host)
    time.sleep(h.stripe.latency + 1)  # the proxy forwards the call it held, to no one
    proof = [f"{host}: SIGKILLed all {len(killed)} processes (pids {killed}) holding {len(in_flight)} order(s) "
             f"mid-charge: {', '.join(o[:8] for o in in_flight)}",
             f"processes left in {host}: {'none' if empty else net.pids(host)}",
             _charging_proof(host, call)]
    return {"fault_at": fault_at, "healed_at": fault_at, "proof": proof, "in_flight": in_flight,
            "ok": empty and bool(killed) and call is not None}


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


def in_flight_proof(result):
    """For (b) and (c), checked once every order is final: the orders the host held mid-charge
    when it was cut off or lost were each charged at most once at localstripe, and exactly once
    if fulfilled (another worker took them over; the fences are in PostgreSQL and at Stripe)."""
    from orders.models import Order
    from payments.audit import succeeded_charges_by_order

    charges = succeeded_charges_by_order()
    statuses = dict(Order.objects.filter(pk__in=result["in_flight"]).values_list("pk", "status"))
    rows = [(str(pk), status, charges.get(str(pk), 0)) for pk, status in statuses.items()]
    wrong = [r for r in rows if r[2] > 1 or (r[1] == "fulfilled") != (r[2] == 1)]
    result["proof"].append("the orders held mid-charge, afterwards: " + "; ".join(
        f"{pk[:8]} {status}, charged {n}x" for pk, status, n in rows))
    result["ok"] = result["ok"] and len(rows) == len(result["in_flight"]) and not wrong


SCENARIOS = {
    "a": ("payments leader killed, restarted after 20 s", leader_killed),
    "b": ("worker-a partitioned from broker and database for 60 s", worker_partitioned),
    "c": ("worker-b lost (all processes SIGKILLed, never back)", worker_lost),
    "d": ("web cut from the broker for 30 s", web_cut_from_broker),
    "e": ("the Beat host holding the lease lost", beat_host_lost),
}
