"""One scenario end to end, and the report: a table per scenario, results.md and results.json.

A scenario: its own product (SKU CLUSTER-<letter>, stock = orders + 50), the stream, the fault
(tests/cluster/scenarios.py) in the middle of it, every order final, then the fault matrix's
own closing invariants (tests/faults/conftest.assert_invariants: one charge at Stripe per
fulfilled order and none twice, one label per parcel, one receipt, stock = initial − sold,
no drift), plus what only a broker cluster can leave behind: nothing in dead_letters,
nothing unacknowledged. Then the harness is restored for the next scenario.
"""

import json
import time
import traceback

from loadtest.soak import render_table
from tests.cluster.scenarios import SCENARIOS, in_flight_proof, reconciliation_proof
from tests.cluster.stream import Stream, measure, wait_final

SKU = "CLUSTER-{}"
FINAL_WAIT = 240  # seconds after the stream for every order to be final


def run_scenario(h, letter, orders, rate, log=print):
    from tests.factories import ProductFactory

    title, fault = SCENARIOS[letter]
    log(f"\n=== ({letter}) {title}: {orders} orders at {rate}/s ===")
    sku, initial = SKU.format(letter.upper()), orders + 50
    ProductFactory(sku=sku, unit_price=1800, stock__available=initial)
    stream = Stream(h.shop.url, letter, sku, orders, rate, log=log)
    started = time.monotonic()
    stream.start()
    while stream.started is None:
        time.sleep(0.01)
    failures = []
    try:
        result = fault(h, stream)
    except Exception as exc:
        failures.append(f"the fault could not be injected: {exc}")
        log(traceback.format_exc())
        result = {"fault_at": time.time(), "healed_at": time.time(), "proof": [], "ok": False}
    stream.join()
    ids = stream.order_ids
    log(f"  stream done: {len(ids)} placed, {len(stream.rejected)} not accepted {stream.rejected[:5]}")
    if stream.rejected:
        failures.append(f"{len(stream.rejected)} checkouts not accepted: {sorted(set(map(str, stream.rejected)))}")
    if not wait_final(ids, FINAL_WAIT, log=log):
        failures.append("not every order reached a final status")
    if letter == "e":
        reconciliation_proof(h, result)
    if result.get("in_flight"):
        in_flight_proof(result)
    if not result.get("ok"):
        failures.append("the fault's proof does not hold (see proof)")
    failures += check(h, ids, sku, initial)
    from payments.audit import succeeded_charges_by_order

    numbers = measure(ids, succeeded_charges_by_order(), result["fault_at"], result["healed_at"])
    numbers.update({"rejected": len(stream.rejected), "seconds": round(time.monotonic() - started, 1)})
    outcome = {"scenario": letter, "title": title, "orders": orders, "rate": rate, **numbers,
               "proof": result["proof"], "failures": failures, "passed": not failures}
    log(table(outcome))
    return outcome


def check(h, ids, sku, initial):
    """The invariants; a list of what failed (empty: all hold)."""
    from tests import rabbit
    from tests.faults.conftest import assert_invariants

    failures = []
    try:
        assert_invariants(h, ids, h.smtp, sku=sku, initial_stock=initial)
    except AssertionError as exc:
        failures.append(f"invariant: {str(exc)[:300]}")
        (h.root / f"failure-{sku}.txt").write_text(str(exc))  # whole, with the hosts' logs when it did not settle
    letters = rabbit.dead_letters(h.broker_url())
    if letters:
        failures.append(f"dead_letters holds {len(letters)}: {letters[:3]}")
    unacked = wait_nothing_unacked(h)
    if unacked:
        failures.append(f"unacknowledged or queued after settling: {unacked}")
    failures += labels_served_by_web(h, ids)
    return failures


def wait_nothing_unacked(h, timeout=30):
    """rabbitmqctl list_queues: no message ready or unacknowledged in any queue. A quorum
    queue's counters lag by up to ~5 s: asked until they read zero, or the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        rows = h.cluster.queues("messages_ready", "messages_unacknowledged")
        left = {r["name"]: (r["messages_ready"], r["messages_unacknowledged"]) for r in rows
                if r["messages_ready"] or r["messages_unacknowledged"]}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(3)


def labels_served_by_web(h, ids, sample=5):
    """The web host serves labels the worker hosts rendered (no disk shared between hosts)."""
    import requests

    from orders.models import Order

    failures = []
    for oid in Order.objects.filter(pk__in=ids, status="fulfilled").values_list("pk", flat=True)[:sample]:
        response = requests.get(f"{h.shop.url}/api/orders/{oid}/label.pdf", timeout=15)
        if response.status_code != 200 or not response.content.startswith(b"%PDF"):
            failures.append(f"web did not serve {oid}'s label: {response.status_code} {response.content[:80]!r}")
    return failures


def _s(value):
    return "-" if value is None else f"{value:.1f}"


def table(o, markdown=False):
    rows = [
        ("orders placed (202)", o["placed"]),
        ("not accepted", o["rejected"]),
        ("final", o["final"]),
        ("fulfilled / payment_failed / needs_review", f"{o['fulfilled']} / {o['payment_failed']} / {o['needs_review']}"),
        ("charged (at localstripe)", o["charged"]),
        ("doubled (charged twice)", o["doubled"]),
        ("lost (not final)", o["lost"]),
        ("fault → first order fulfilled after it (s)", _s(o["first_fulfilled_after_fault_s"])),
        ("fault → backlog drained (s)", _s(o["backlog_drained_s"])),
        ("checkout → final p50 / p95 / max (s)", f"{_s(o['p50_s'])} / {_s(o['p95_s'])} / {_s(o['max_s'])}"),
        ("scenario time (s)", _s(o["seconds"])),
        ("invariants", "all hold" if o["passed"] else "FAILED"),
    ]
    head = f"({o['scenario']}) {o['title']}"
    proof = "\n".join(f"  - {line}" for line in o["proof"])
    fails = "\n".join(f"  ! {line}" for line in o["failures"])
    if markdown:
        return f"### {head}\n\n{render_table(rows, markdown=True)}\n\nProof of the fault:\n\n{proof}\n" + (
            f"\nFailures:\n\n{fails}\n" if fails else "")
    return f"{head}\n{render_table(rows)}\nproof:\n{proof}\n" + (f"failures:\n{fails}\n" if fails else "")


def write_results(root, outcomes, layout, total_seconds):
    root.mkdir(parents=True, exist_ok=True)
    (root / "results.json").write_text(json.dumps({"total_seconds": total_seconds, "layout": layout,
                                                   "scenarios": outcomes}, indent=2))
    parts = ["# Multi-host harness results", "", f"Total run time: {total_seconds / 60:.1f} min", "",
             "Hosts:", "", *[f"- {line}" for line in layout], ""]
    parts += [table(o, markdown=True) for o in outcomes]
    (root / "results.md").write_text("\n".join(parts))
