"""`python -m tests.cluster` (what `make cluster-test` runs): the multi-host harness.

Brings up the hosts (tests/cluster/harness.py), runs the scenarios in order, each during its
own stream of orders, prints a table per scenario, writes var/cluster/results.md and
results.json, tears everything down (unless --keep), and exits 1 if any invariant or any
fault's proof failed.
"""

import argparse
import signal
import sys
import time

from tests.cluster import net
from tests.cluster.scenarios import SCENARIOS


def layout_lines():
    from tests.cluster.hosts import BEAT_HOSTS, WORKER_HOSTS, WORKER_LINES

    what = {"rabbit-1": "RabbitMQ rabbit@rabbit-1", "rabbit-2": "RabbitMQ rabbit@rabbit-2",
            "rabbit-3": "RabbitMQ rabbit@rabbit-3", "data": "PostgreSQL :5432, Redis :6379, localstripe :8420",
            "web": "gunicorn (Procfile web) :8000"}
    what.update({h: "Celery " + ", ".join(WORKER_LINES) + " (Procfile)" for h in WORKER_HOSTS})
    what.update({h: "Celery Beat (Procfile beat, lease)" for h in BEAT_HOSTS})
    return [f"harness (root namespace) {net.HARNESS_IP} on bridge {net.BRIDGE}: order stream, SMTP sink, checks"] + [
        f"{name} {net.ip(name)}: {what[name]}" for name in net.HOSTS]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300, help="orders per scenario (default %(default)s)")
    parser.add_argument("--rate", type=float, default=4.0, help="orders per second (default %(default)s)")
    parser.add_argument("--scenario", default="abcde",
                        help="which scenarios, in order: letters of " + ", ".join(
                            f"{k}: {v[0]}" for k, v in SCENARIOS.items()) + " (default all)")
    parser.add_argument("--keep", action="store_true", help="leave the hosts running afterwards (then: "
                        "python -m tests.cluster --teardown)")
    parser.add_argument("--teardown", action="store_true", help="only tear down what a run left")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # progress lines as they happen, under make and CI too
    net.require_root()
    if args.teardown:
        net.teardown()
        return 0
    letters = [c for c in args.scenario.lower() if c.strip(", ")]
    unknown = [c for c in letters if c not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {unknown}")

    from tests.cluster.harness import ROOT, Harness

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the teardown below runs
    started = time.monotonic()
    h = Harness()
    outcomes = []
    try:
        h.up()
        from tests.cluster.run import run_scenario  # imports models: only once Django is set up

        for i, letter in enumerate(letters):
            if i:
                h.restore()
            outcomes.append(run_scenario(h, letter, args.orders, args.rate))
    finally:
        total = time.monotonic() - started
        if outcomes:
            from tests.cluster.run import write_results

            write_results(ROOT, outcomes, layout_lines(), total)
        if not args.keep:
            h.down()
    from tests.cluster.run import table

    print("\n\n".join(table(o) for o in outcomes))
    print("Hosts:\n" + "\n".join(f"  {line}" for line in layout_lines()))
    print(f"total: {total / 60:.1f} min; results in {ROOT}/results.md")
    return 0 if outcomes and all(o["passed"] for o in outcomes) and len(outcomes) == len(letters) else 1


if __name__ == "__main__":
    sys.exit(main())
