"""`make bench`: how fast Harbor is, measured in ONE run on this machine, against itself.

It starts a whole shop on fresh embedded services (as `make run` does; the per-IP checkout
limit off), raises the demo stock, and measures with wrk:

- the baseline: the smallest Django JSON view (`/livez`) under the Procfile's gunicorn
  settings, the yardstick of every HTTP ratio; then `GET /api/products/`, `GET /api/orders/{id}/`
  and the storefront's catalog page;
- search over the demo catalog (sixty products): the storefront's results page and the API's
  `?search=`, each request the next of a list of shoppers' queries (`search_queries()`);
- `POST /api/orders/` (a new Idempotency-Key each, the SKUs in turn) at 8 and 32 connections,
  with the Celery workers paused and running; one hot SKU, then a check that nothing oversold;
- the pipeline: 1,000 orders queued, then the time until all are final, for the old
  Procfile's pool (prefork, 2) and the chosen one, with Stripe as fast as localstripe answers
  and with 300 ms added to every Stripe call (the fault proxy); the no-op Celery task rate
  with the same pools;
- checkout → fulfilled latency p50/p95/p99 at half the chosen pipeline's capacity;
- the resident memory of each process of the shop, idle and after the run.

Results: var/bench/results.json, results.md (the table) and chart.png, also copied to
docs/bench/ for the README. `python -m loadtest.bench --help` for the knobs.
"""

import argparse
import json
import os
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
CHOSEN = ("payments", "worker")  # the Procfile's workers: payments (threads) + fulfillment/notifications
OLD_PROCFILE_WORKER = ("celery -A harbor worker -Q payments,fulfillment,notifications --concurrency 2 "
                       "--loglevel INFO --hostname old@%h")
STOCK = 10_000_000


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(BASE_DIR / "var" / "bench"))
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run (default %(default)s)")
    parser.add_argument("--orders", type=int, default=1000, help="orders queued per pipeline run")
    parser.add_argument("--pipeline-timeout", type=int, default=150,
                        help="stop waiting for a pipeline run after this many seconds and report its rate so far")
    parser.add_argument("--latency-seconds", type=int, default=30, help="length of the paced latency run")
    args = parser.parse_args(argv)
    out = Path(args.out)
    shutil.rmtree(out / "run", ignore_errors=True)

    from loadtest.shop import NO_LIMITS, Shop

    shop = Shop(out / "run", env={**NO_LIMITS, "RECONCILE_INTERVAL": "60"}).start_services()
    try:
        import django

        django.setup()
        results = run(shop, args)
    finally:
        shop.stop()
        shop.stop_services()
    from loadtest import report

    report.write(results, out, BASE_DIR / "docs" / "bench")
    log(f"results in {out}/results.json, results.md and chart.png")
    print((out / "results.md").read_text())


def run(shop, args):
    from loadtest import measure

    results = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(),
               "seconds_per_run": args.seconds}
    log("preparing the shop (migrate, seed, stock)")
    shop.prepare()
    raise_stock()
    shop.web()
    for name in CHOSEN:
        shop.worker(name)
    shop.beat()
    time.sleep(3)
    results["rss_idle"] = shop.rss()
    partial = Path(args.out) / "partial.json"  # what was measured so far, should a later part fail
    for part, measure_part in (("http", http_runs), ("pipeline", pipeline_runs)):
        results[part] = measure_part(shop, args, measure)
        partial.write_text(json.dumps(results, indent=2, default=str))
    results["latency"] = latency_run(shop, args, measure, results["pipeline"])
    results["rss_after"] = results["latency"].pop("rss")
    return results


def machine():
    import platform

    import psutil

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"cores": os.cpu_count(), "ram_gib": round(psutil.virtual_memory().total / 2**30, 1), "cpu": model,
            "python": platform.python_version(), "host": platform.node()}


def raise_stock():
    from django.db.models import F

    from catalog import cache
    from inventory.models import Stock

    Stock.objects.update(available=F("available") + STOCK, received=F("received") + STOCK)
    cache.changed()  # a bulk UPDATE sends no post_save


def skus():
    from catalog.models import Product

    return list(Product.objects.filter(active=True).order_by("sku").values_list("sku", flat=True))


# What shoppers type: whole words, prefixes being typed, a SKU, two words, and one that finds nothing.
SEARCHES = ("mug", "enamel", "wool", "brass", "bottle", "tee", "bag", "chart", "rope", "lantern", "blanket", "navy",
            "steel", "canvas", "cap", "enam", "blank", "lant", "MUG-001", "DRY-20", "wool+socks", "steel+bottle",
            "anchorage")


def search_queries():
    """The queries of the search runs, URL-encoded (spaces as +)."""
    return list(SEARCHES)


def forget_backlog(measure):
    """Between runs: no message waiting, and no unfinished order left for reconciliation to
    resend. They are the benchmark's own orders: their units go back on the shelf and the
    orders are deleted. (Marking them canceled instead made reconciliation e-mail thousands
    of made-up shoppers, and those e-mails ran against the next measurement.)"""
    from django.db import transaction

    from inventory import stock
    from inventory.models import Allocation
    from orders.models import Order
    from payments.models import Payment

    measure.purge_queues()
    with transaction.atomic():
        backlog = list(Order.objects.select_for_update().filter(status__in=["pending", "paid", "requires_action"])
                       .order_by("pk").values_list("pk", flat=True))
        for order_id in Order.objects.filter(pk__in=backlog, stock_released=False).values_list("pk", flat=True):
            stock.release(order_id)  # into the warehouses they came from
        Allocation.objects.filter(order_id__in=backlog).delete()
        Payment.objects.filter(order_id__in=backlog).delete()
        Order.objects.filter(pk__in=backlog).delete()


# --- HTTP -----------------------------------------------------------------------------------

def http_runs(shop, args, measure):
    from orders.models import Order

    url, s = shop.url, args.seconds
    runs = {}
    log("HTTP: baseline, products, order, catalog page")
    runs["baseline"] = measure.wrk(url + "/livez", 8, s)
    runs["products"] = measure.wrk(url + "/api/products/", 8, s)
    sample = Order.objects.order_by("-created_at").values_list("pk", flat=True).first()
    if sample is None:
        from orders.checkout import place_order

        sample = place_order(email="bench@example.com", lines=[{"sku": skus()[0], "quantity": 1}],
                             payment_method="pm_card_visa",
                             shipping_address={"name": "B", "line1": "1", "city": "C", "postal_code": "P",
                                               "country": "GB"})[0].pk
    runs["order"] = measure.wrk(f"{url}/api/orders/{sample}/", 8, s)
    runs["catalog_page"] = measure.wrk(url + "/", 8, s)
    log("HTTP: search (the results page, then the API)")
    queries = "|".join(search_queries())
    runs["search"] = measure.wrk(url + "/", 8, s, "search.lua", [queries, "/search/?q="])
    runs["search_api"] = measure.wrk(url + "/", 8, s, "search.lua", [queries, "/api/products/?search="])
    catalog = ",".join(skus())
    for state in ("paused", "running"):
        if state == "paused":
            shop.pause(*CHOSEN, "beat")
        for connections in (8, 32):
            log(f"HTTP: checkout, {connections} connections, workers {state}")
            runs[f"checkout_{connections}_{state}"] = measure.wrk(
                url + "/", connections, s, "checkout.lua", [catalog, f"c{connections}{state}"])
        if state == "paused":
            log("HTTP: checkout of one hot SKU, 8 connections, workers paused")
            runs["hot_sku"] = measure.wrk(url + "/", 8, s, "checkout.lua", [skus()[0], "hot"])
            runs["hot_sku"]["oversold"] = oversold(skus()[0])
            shop.resume(*CHOSEN, "beat")
    shop.stop(*CHOSEN, "beat")
    forget_backlog(measure)
    return runs


def oversold(sku):
    """Units sold beyond what stock allowed (0 expected), and any audit drift."""
    from django.db import connection, transaction
    from django.db.models import Sum

    from inventory.models import Stock
    from orders.models import OrderLine
    from orders.stock import stock_drift

    # One snapshot for every figure: a checkout still finishing after wrk stopped must not
    # land between the read of the order lines and the read of the stock.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        row = Stock.objects.filter(product__sku=sku).aggregate(available=Sum("available"), received=Sum("received"))
        sold = OrderLine.objects.filter(sku=sku, order__stock_released=False).aggregate(n=Sum("quantity"))["n"] or 0
        drift = stock_drift()
    return {"sold": sold, "available": row["available"], "received": row["received"],
            "oversold": max(0, sold - row["received"]), "negative": Stock.objects.filter(available__lt=0).exists(),
            "drift": drift}


# --- The pipeline ---------------------------------------------------------------------------

def queue_orders(n, tag):
    """n orders placed through the checkout service, their fulfill_order messages queued."""
    from orders.checkout import place_order

    catalog = skus()
    address = {"name": "Bench Shopper", "line1": "1 Quay Street", "city": "Portsmouth", "postal_code": "PO1 1AA",
               "country": "GB"}
    return [place_order(email=f"bench+{tag}{i}@example.com", lines=[{"sku": catalog[i % len(catalog)], "quantity": 1}],
                        payment_method="pm_card_visa", shipping_address=address)[0].pk for i in range(n)]


def start_workers(shop, pool, stripe_url):
    env = {"STRIPE_API_BASE": stripe_url}
    if pool == "prefork-2":
        shop.worker("old", OLD_PROCFILE_WORKER, **env)
        return ["old"]
    for name in CHOSEN:
        shop.worker(name, **env)
    return list(CHOSEN)


def pipeline_runs(shop, args, measure):
    from loadtest.faultproxy import FaultProxy

    stripe = os.environ["STRIPE_API_BASE"]
    slow = FaultProxy(stripe).start()
    slow.latency = 0.3
    runs = {}
    try:
        for pool in ("prefork-2", "chosen"):
            for stripe_name, stripe_url in (("localstripe", stripe), ("stripe+300ms", slow.url)):
                name = f"{pool}/{stripe_name}"
                forget_backlog(measure)
                order_ids = queue_orders(args.orders, name.replace("/", "-").replace("+", ""))
                log(f"pipeline {name}: {len(order_ids)} orders queued, starting the workers")
                started = time.monotonic()
                workers = start_workers(shop, pool, stripe_url)
                elapsed, final = measure.wait_until_final(order_ids, args.pipeline_timeout)
                wall = time.monotonic() - started
                shop.stop(*workers)
                runs[name] = {"orders": len(order_ids), "final": final, "seconds": elapsed or wall,
                              "capped": elapsed is None, "orders_per_s": final / (elapsed or wall)}
                log(f"pipeline {name}: {final} final in {wall:.1f}s ({runs[name]['orders_per_s']:.1f}/s)")
            runs[f"{pool}/noop"] = noop_rate(shop, pool, measure)
    finally:
        slow.stop()
    forget_backlog(measure)
    return runs


def noop_rate(shop, pool, measure, n=5000):
    from loadtest.tasks import noop

    measure.purge_queues()
    with noop.app.producer_or_acquire() as producer:
        for _ in range(n):
            noop.apply_async(queue="payments", producer=producer)
    workers = start_workers(shop, pool, os.environ["STRIPE_API_BASE"])
    elapsed = measure.wait_until_drained(120)
    shop.stop(*workers)
    log(f"no-op {pool}: {n} tasks in {elapsed:.1f}s")
    return {"tasks": n, "seconds": elapsed, "tasks_per_s": n / elapsed if elapsed else None}


# --- Latency at half capacity ---------------------------------------------------------------

def latency_run(shop, args, measure, pipeline):
    """Orders placed over HTTP at half the chosen pipeline's capacity, with Stripe at +300 ms."""
    from loadtest.faultproxy import FaultProxy
    from orders.models import Order

    capacity = pipeline["chosen/stripe+300ms"]["orders_per_s"]
    rate = capacity / 2
    slow = FaultProxy(os.environ["STRIPE_API_BASE"]).start()
    slow.latency = 0.3
    try:
        forget_backlog(measure)
        workers = start_workers(shop, "chosen", slow.url)
        shop.beat()
        connections = 4
        pause_ms = max(1, int(1000 * connections / rate))
        log(f"latency: {rate:.1f} orders/s for {args.latency_seconds}s")
        since = datetime.now(timezone.utc)
        placed = measure.wrk(shop.url + "/", connections, args.latency_seconds, "paced_checkout.lua",
                             [",".join(skus()), "latency", str(pause_ms)])
        order_ids = list(Order.objects.filter(email__startswith="bench+latency-", created_at__gte=since)
                         .values_list("pk", flat=True))
        measure.wait_until_final(order_ids, 120)
        latencies = measure.checkout_latencies(order_ids)
        rss = shop.rss()  # after the whole run, every process of the shop still up
        shop.stop(*workers, "beat")
    finally:
        slow.stop()
    return {"target_rate": rate, "offered_rps": placed["rps"], "orders": len(order_ids), "fulfilled": len(latencies),
            "p50_s": measure.percentile(latencies, 50), "p95_s": measure.percentile(latencies, 95),
            "p99_s": measure.percentile(latencies, 99), "stripe_latency_ms": 300, "rss": rss}


if __name__ == "__main__":
    main()
