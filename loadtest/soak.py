"""The soak run behind `manage.py soak`: place orders through the HTTP API at a steady
rate while SIGKILLing Celery pool children, wait for every order to become final, then
report what happened (statuses, lost orders, charges counted at Stripe, latency).

The pure parts (order bodies, worker selection, percentiles, the table) take plain data,
so tests/test_soak.py checks them without a running shop.
"""

import json
import math
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from orders.models import OrderStatus

FINAL = {OrderStatus.FULFILLED, OrderStatus.PAYMENT_FAILED, OrderStatus.NEEDS_REVIEW,
         OrderStatus.CANCELED, OrderStatus.REFUNDED}
CARD_OK, CARD_DECLINED = "pm_card_visa", "pm_card_chargeCustomerFail"
ADDRESS = {"name": "Soak Tester", "line1": "1 Quay Street", "city": "Portsmouth", "postal_code": "PO1 1AA",
           "country": "GB"}


# --- pure parts -------------------------------------------------------------------------

def plan_orders(products, n, decline_every, run_id, rng):
    """n (idempotency key, body) pairs, quantity 1 each. SKUs are drawn at random, weighted by
    the units still available (counting the ones this plan already took), so no SKU runs out
    before the catalog does. Every decline_every-th order (1-based) uses the declining card."""
    left = {p["sku"]: int(p.get("available") or 0) for p in products}
    plan = []
    for i in range(n):
        skus = [s for s, units in left.items() if units > 0] or list(left)  # out of stock: expect 409s
        sku = rng.choices(skus, weights=[max(left[s], 1) for s in skus])[0]
        left[sku] -= 1
        declined = decline_every > 0 and (i + 1) % decline_every == 0
        plan.append((f"soak-{run_id}-{i}", {
            "email": f"soak+{run_id}-{i}@example.com", "lines": [{"sku": sku, "quantity": 1}],
            "payment_method": CARD_DECLINED if declined else CARD_OK, "shipping_address": ADDRESS}))
    return plan


def is_celery_worker(cmdline):
    """A `celery ... worker` process (main or pool child): an argument named celery (the
    script, or `python -m celery`) and an argument `worker`. `sh -c "celery ... worker"` is not
    one: its command is a single argument."""
    return any(os.path.basename(arg) == "celery" for arg in cmdline) and "worker" in cmdline


def pool_children(procs, shop_pid=None, main_ok=lambda pid: True):
    """PIDs of pool children, from procs = {pid: (ppid, cmdline)}. A worker main process is a
    celery worker whose parent is not one; its children are the pool. Only mains that descend
    from shop_pid (when given) and pass main_ok(pid) count. Mains themselves are never returned."""
    def worker(pid):
        return pid in procs and is_celery_worker(procs[pid][1])

    def descends(pid):
        seen = set()
        while pid in procs and pid not in seen:
            if pid == shop_pid:
                return True
            seen.add(pid)
            pid = procs[pid][0]
        return pid == shop_pid

    mains = {pid for pid in procs if worker(pid) and not worker(procs[pid][0])
             and (shop_pid is None or descends(pid)) and main_ok(pid)}
    return sorted(pid for pid, (ppid, _) in procs.items() if ppid in mains)


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summarize(statuses, charges, latencies, *, rejected=None, kills=0, duration=0.0, fulfilled_span=0.0):
    """The report. statuses: {order id: status} of every placed (202) order; charges: {order id:
    succeeded charges at Stripe}; latencies: checkout→fulfilled seconds of the fulfilled orders."""
    count, rejected = Counter(statuses.values()), Counter(rejected or {})
    fulfilled = count[OrderStatus.FULFILLED]
    return {
        "placed": len(statuses),
        "rejected": sum(rejected.values()),
        "rejected_by_status": dict(rejected),
        "fulfilled": fulfilled,
        "payment_failed": count[OrderStatus.PAYMENT_FAILED],
        "needs_review": count[OrderStatus.NEEDS_REVIEW],
        "canceled_refunded": count[OrderStatus.CANCELED] + count[OrderStatus.REFUNDED],
        "lost": sum(1 for s in statuses.values() if s not in FINAL),
        "double_charges": sum(1 for oid in statuses if charges.get(oid, 0) > 1),
        "charge_mismatches": sum(1 for oid, s in statuses.items()
                                 if s == OrderStatus.FULFILLED and charges.get(oid, 0) != 1),
        "charged_not_fulfilled": sum(1 for oid, s in statuses.items() if charges.get(oid, 0) > 0
                                     and s not in (OrderStatus.FULFILLED, OrderStatus.REFUNDED)),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "kills": kills,
        "duration": duration,
        "throughput": fulfilled / fulfilled_span if fulfilled_span > 0 else None,
    }


def table_rows(s):
    def num(v, fmt="{:.2f}"):
        return "-" if v is None else fmt.format(v)
    by_status = ", ".join(f"{k}: {v}" for k, v in sorted(s["rejected_by_status"].items()))
    return [
        ("placed (202)", s["placed"]),
        ("rejected (non-202)", f"{s['rejected']} ({by_status})" if by_status else s["rejected"]),
        ("fulfilled", s["fulfilled"]),
        ("payment_failed", s["payment_failed"]),
        ("needs_review", s["needs_review"]),
        ("canceled/refunded", s["canceled_refunded"]),
        ("lost (not final after wait)", s["lost"]),
        ("double charges (at Stripe)", s["double_charges"]),
        ("fulfilled without exactly 1 charge", s["charge_mismatches"]),
        ("charged but not fulfilled", s["charged_not_fulfilled"]),
        ("checkout→fulfilled p50 (s)", num(s["p50"])),
        ("checkout→fulfilled p95 (s)", num(s["p95"])),
        ("worker children killed", s["kills"]),
        ("duration (s)", num(s["duration"], "{:.1f}")),
        ("throughput (fulfilled/s)", num(s["throughput"])),
    ]


def render_table(rows, markdown=False):
    rows = [(str(k), str(v)) for k, v in rows]
    if markdown:
        return "\n".join(["| metric | value |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in rows])
    rows = [("metric", "value"), *rows]
    kw, vw = max(len(k) for k, _ in rows), max(len(v) for _, v in rows)
    rule = f"+-{'-' * kw}-+-{'-' * vw}-+"
    lines = [f"| {k.ljust(kw)} | {v.rjust(vw)} |" for k, v in rows]
    return "\n".join([rule, lines[0], rule, *lines[1:], rule])


# --- the parts that touch the shop ----------------------------------------------------------

def http(method, url, body=None, headers=None, timeout=30):
    """(status, parsed JSON or None). Connection errors come back as status 'error'."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (OSError, ValueError) as exc:
        return f"error ({type(exc).__name__})", None


def place_all(base_url, plan, rate, log):
    """POST each planned order at start + i/rate from a thread pool (a slow answer does not
    delay the next request). Returns [(status, order id or None)] in plan order."""
    url = base_url.rstrip("/") + "/api/orders/"
    start = time.monotonic()

    def place(key, body):
        status, data = http("POST", url, body, {"Idempotency-Key": key})
        return status, (data or {}).get("id") if status == 202 else None

    with ThreadPoolExecutor(max_workers=min(64, max(8, math.ceil(rate * 4)))) as pool:
        futures = []
        for i, (key, body) in enumerate(plan):
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            futures.append(pool.submit(place, key, body))
            if (i + 1) % max(1, int(rate * 10)) == 0:
                log(f"soak: sent {i + 1}/{len(plan)}")
        return [f.result() for f in futures]


class Killer(threading.Thread):
    """Every `every` seconds, SIGKILL one random pool child of a matching Celery worker."""

    def __init__(self, every, rng, log, shop_pid=None, pattern=None):
        super().__init__(daemon=True)
        self.every, self.rng, self.log, self.shop_pid, self.pattern = every, rng, log, shop_pid, pattern
        self.stopped, self.kills = threading.Event(), 0

    def main_ok(self, pid):
        if not self.pattern:
            return True
        import psutil
        try:
            proc = psutil.Process(pid)
            texts = [" ".join(proc.cmdline())]
            for getter in (proc.cwd, lambda: "\n".join(f"{k}={v}" for k, v in proc.environ().items())):
                try:
                    texts.append(getter())
                except psutil.AccessDenied:
                    pass
        except psutil.Error:
            return False
        return any(self.pattern in text for text in texts)

    def kill_one(self):
        import psutil
        handles, procs = {}, {}
        for proc in psutil.process_iter(["ppid", "cmdline"]):
            handles[proc.pid], procs[proc.pid] = proc, (proc.info["ppid"], proc.info["cmdline"] or [])
        candidates = pool_children(procs, self.shop_pid, self.main_ok)
        if not candidates:
            self.log("soak: no matching Celery pool child to kill")
            return
        pid = self.rng.choice(candidates)
        try:
            handles[pid].send_signal(signal.SIGKILL)  # psutil refuses if the pid was reused meanwhile
            self.kills += 1
            self.log(f"soak: SIGKILL pool child {pid} (parent {procs[pid][0]})")
        except psutil.Error as exc:
            self.log(f"soak: could not kill {pid}: {exc}")

    def run(self):
        while not self.stopped.wait(self.every):
            self.kill_one()


def log_stderr(message):
    print(message, file=sys.stderr, flush=True)
