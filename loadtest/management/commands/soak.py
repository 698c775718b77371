import logging
import random
import time
import uuid
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from loadtest import soak
from orders.models import Order, OrderEvent, OrderStatus


class Command(BaseCommand):
    help = (
        "Soak test a running shop: place N orders through the HTTP API at a steady rate while "
        "SIGKILLing Celery worker pool children at random, wait for the orders to become final, "
        "then print one table (placed, fulfilled, payment_failed, needs_review, lost, double "
        "charges counted at Stripe, p50/p95 checkout→fulfilled). Run it with the shop's "
        "DATABASE_URL, REDIS_URL and STRIPE_API_BASE (e.g. `. var/devservices.env`). Exits 1 if "
        "any order is lost or charged twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000",
                            help="the shop's web address (default: %(default)s)")
        parser.add_argument("--orders", type=int, default=1000, help="orders to place (default: %(default)s)")
        parser.add_argument("--rate", type=float, default=10.0,
                            help="orders per second; request i is sent at start + i/rate (default: %(default)s)")
        parser.add_argument("--kill-every", type=float, default=5.0,
                            help="seconds between SIGKILLs of a random Celery pool child while orders are "
                                 "being placed; 0 disables killing (default: %(default)s)")
        parser.add_argument("--wait", type=float, default=300.0,
                            help="seconds to wait, after the last order is placed, for all orders to reach a "
                                 "final status; orders still not final then are counted as lost (default: %(default)s)")
        parser.add_argument("--decline-every", type=int, default=10,
                            help=f"every K-th order pays with {soak.CARD_DECLINED} (charge declined, so it "
                                 "should end payment_failed); 0 disables (default: %(default)s)")
        parser.add_argument("--seed", type=int, default=None,
                            help="seed for the random SKU choice and kill targets (default: random)")
        parser.add_argument("--shop-pid", type=int, default=None,
                            help="only kill pool children of Celery workers that descend from this pid (e.g. "
                                 "the pid of your `make run`). Without it and --worker-pattern, the pool children "
                                 "of EVERY `celery ... worker` on this machine are candidates")
        parser.add_argument("--worker-pattern", default=None,
                            help="only kill pool children of Celery workers whose main process has this "
                                 "substring in its command line, working directory or environment (e.g. its "
                                 "HARBOR_VAR_DIR). Combines with --shop-pid. Worker main processes are never killed")
        parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")

    def handle(self, *args, **opt):
        if opt["orders"] < 1 or opt["rate"] <= 0:
            raise CommandError("--orders must be >= 1 and --rate > 0")
        logging.getLogger("stripe").setLevel(logging.WARNING)  # one line per API call otherwise
        base, log, rng = opt["base_url"].rstrip("/"), soak.log_stderr, random.Random(opt["seed"])
        status, health = soak.http("GET", base + "/healthz")
        if status != 200:
            raise CommandError(f"{base}/healthz answered {status} {health}: is the shop running?")
        status, products = soak.http("GET", base + "/api/products/?page_size=100")
        if status != 200:
            raise CommandError(f"GET /api/products/ answered {status}")
        products = products.get("results", products) if isinstance(products, dict) else products
        if sum(p["available"] for p in products) < opt["orders"]:
            log(f"soak: warning: only {sum(p['available'] for p in products)} units in stock "
                f"for {opt['orders']} orders; expect 409s")
        plan = soak.plan_orders(products, opt["orders"], opt["decline_every"], uuid.uuid4().hex[:8], rng)

        killer = None
        if opt["kill_every"] > 0:
            killer = soak.Killer(opt["kill_every"], rng, log, opt["shop_pid"], opt["worker_pattern"])
            if not (opt["shop_pid"] or opt["worker_pattern"]):
                log("soak: warning: no --shop-pid/--worker-pattern: any Celery worker on this machine may be hit")
            killer.start()
        started = time.monotonic()
        log(f"soak: placing {opt['orders']} orders at {opt['rate']}/s against {base}")
        try:
            results = soak.place_all(base, plan, opt["rate"], log)
        finally:
            if killer:
                killer.stopped.set()
                killer.join()
        ids = [oid for status, oid in results if status == 202]
        rejected = Counter(str(status) for status, _ in results if status != 202)
        log(f"soak: placed {len(ids)} in {time.monotonic() - started:.1f}s, rejected {sum(rejected.values())}; "
            f"waiting up to {opt['wait']:.0f}s for final statuses")

        deadline, last_log = time.monotonic() + opt["wait"], 0.0
        while True:
            open_orders = Order.objects.filter(pk__in=ids).exclude(status__in=soak.FINAL).count()
            if open_orders == 0 or time.monotonic() >= deadline:
                break
            if time.monotonic() - last_log >= 10:
                log(f"soak: {open_orders} orders not final yet")
                last_log = time.monotonic()
            time.sleep(1)
        duration = time.monotonic() - started

        orders = dict(Order.objects.filter(pk__in=ids).values_list("pk", "created_at"))
        statuses = {str(oid): "missing" for oid in ids}
        statuses.update({str(pk): s for pk, s in Order.objects.filter(pk__in=ids).values_list("pk", "status")})
        done = {}
        for oid, at in OrderEvent.objects.filter(order_id__in=ids, to_status=OrderStatus.FULFILLED).values_list(
                "order_id", "created_at"):
            done[oid] = min(at, done.get(oid, at))
        latencies = [(at - orders[oid]).total_seconds() for oid, at in done.items()]
        span = (max(done.values()) - min(orders.values())).total_seconds() if done else 0.0

        from payments.audit import succeeded_charges_by_order
        charges = succeeded_charges_by_order()
        summary = soak.summarize(statuses, charges, latencies, rejected=rejected,
                                 kills=killer.kills if killer else 0, duration=duration, fulfilled_span=span)
        self.stdout.write(soak.render_table(soak.table_rows(summary), markdown=opt["markdown"]))
        if summary["lost"] or summary["double_charges"]:
            raise CommandError(f"soak failed: {summary['lost']} lost, {summary['double_charges']} double charged")
