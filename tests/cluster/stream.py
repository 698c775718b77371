"""The steady stream of orders a fault happens during, and what is measured from it.

Orders go to the web host's API at one rate (start + i/rate, from a thread pool, so a slow
answer does not delay the next), one unit of the scenario's own SKU each, every tenth with
the card that is declined when charged (the contract's 4000 0000 0000 0341, pm_card_chargeCustomerFail)
so payment_failed is exercised. A request that gets no answer is sent again with the same
Idempotency-Key: it is the same order, never a second one.

Times come from the database: the order's created_at (checkout) and its history's first
final status (OrderEvent), all on this machine's one clock, as are the faults' times.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from loadtest.soak import ADDRESS, CARD_DECLINED, CARD_OK, http, percentile

FINAL = ("fulfilled", "payment_failed", "needs_review", "canceled", "refunded")
DECLINE_EVERY = 10


class Stream(threading.Thread):
    def __init__(self, web_url, scenario, sku, orders, rate, log=print):
        super().__init__(daemon=True, name=f"stream-{scenario}")
        self.url = web_url.rstrip("/") + "/api/orders/"
        self.scenario, self.sku, self.n, self.rate, self.log = scenario, sku, orders, rate, log
        self.results = [None] * orders  # (http status, order id)
        self.started = None

    def body(self, i):
        return {"email": f"cluster-{self.scenario}-{i}@example.com", "lines": [{"sku": self.sku, "quantity": 1}],
                "payment_method": CARD_DECLINED if (i + 1) % DECLINE_EVERY == 0 else CARD_OK,
                "shipping_address": ADDRESS}

    def place(self, i):
        key = f"cluster-{self.scenario}-{self.started:.0f}-{i}"
        for _ in range(4):
            status, data = http("POST", self.url, self.body(i), {"Idempotency-Key": key}, timeout=30)
            if status == 202:
                return status, data["id"]
            if not str(status).startswith("error") and status not in (502, 503, 504):
                break
            time.sleep(1)
        return status, None

    def at(self, i):
        """When order i is (was) sent, in time.time()."""
        return self.started + i / self.rate

    def run(self):
        self.started = time.time()
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            futures = []
            for i in range(self.n):
                time.sleep(max(0.0, start + i / self.rate - time.monotonic()))
                futures.append(pool.submit(self.place, i))
                if (i + 1) % 60 == 0:
                    self.log(f"  {self.scenario}: sent {i + 1}/{self.n}")
            for i, future in enumerate(futures):
                self.results[i] = future.result()

    @property
    def order_ids(self):
        return [oid for status, oid in self.results if oid]

    @property
    def rejected(self):
        return [status for status, oid in self.results if not oid]


def timeline(order_ids):
    """{order id: (status, created_at, first final at or None, fulfilled at or None)} in epoch seconds."""
    from orders.models import Order, OrderEvent

    rows = {str(pk): [status, created.timestamp(), None, None]
            for pk, status, created in Order.objects.filter(pk__in=order_ids).values_list("pk", "status", "created_at")}
    events = OrderEvent.objects.filter(order_id__in=order_ids, to_status__in=FINAL).order_by("created_at")
    for order_id, to_status, at in events.values_list("order_id", "to_status", "created_at"):
        row = rows[str(order_id)]
        if row[2] is None:
            row[2] = at.timestamp()
        if to_status == "fulfilled" and row[3] is None:
            row[3] = at.timestamp()
    return {k: tuple(v) for k, v in rows.items()}


def wait_final(order_ids, timeout, log=print):
    from orders.models import Order

    deadline = time.monotonic() + timeout
    while True:
        left = Order.objects.filter(pk__in=order_ids).exclude(status__in=FINAL).count()
        if not left or time.monotonic() > deadline:
            return left == 0
        log(f"  waiting: {left} orders not final yet")
        time.sleep(10)


def measure(order_ids, charges, fault_at, healed_at):
    return summarize(order_ids, timeline(order_ids), charges, fault_at, healed_at)


def summarize(order_ids, rows, charges, fault_at, healed_at):
    """The scenario's numbers, from timeline()'s rows. Recovery: from the fault to the first
    order fulfilled after it, and to the backlog drained (every order placed before the fault
    ended is final; None while one is not)."""
    latencies = [final - created for _, created, final, _ in rows.values() if final]
    fulfilled_after = [f for *_, f in rows.values() if f and f > fault_at]
    backlog = [final for _, created, final, _ in rows.values() if created <= healed_at]
    drained = None if any(f is None for f in backlog) else max(backlog, default=fault_at) - fault_at
    statuses = [status for status, *_ in rows.values()]
    return {
        "placed": len(order_ids),
        "final": sum(1 for s in statuses if s in FINAL),
        "fulfilled": statuses.count("fulfilled"),
        "payment_failed": statuses.count("payment_failed"),
        "needs_review": statuses.count("needs_review"),
        "charged": sum(1 for oid in rows if charges.get(oid, 0) >= 1),
        "doubled": sum(1 for oid in rows if charges.get(oid, 0) > 1),
        "lost": sum(1 for s in statuses if s not in FINAL) + (len(order_ids) - len(rows)),
        "first_fulfilled_after_fault_s": min(fulfilled_after) - fault_at if fulfilled_after else None,
        "backlog_drained_s": drained,
        "p50_s": percentile(latencies, 50),
        "p95_s": percentile(latencies, 95),
        "max_s": max(latencies, default=None),
    }
