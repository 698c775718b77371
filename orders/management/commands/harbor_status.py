import json

from django.core.management.base import BaseCommand

from orders.ops import format_age, gather


class Command(BaseCommand):
    help = (
        "Print the shop at a glance: messages waiting per Celery queue (payments, fulfillment, "
        "notifications), workers answering a ping, today's orders per status, stuck orders (pending or "
        "paid, not updated for over RECONCILE_AFTER seconds), the oldest pending order's age and task "
        "failures in the last hour. The same figures as the admin index panel (orders/ops.py). "
        "A figure that cannot be read (broker down) shows as 'unavailable'; --json prints them as JSON (null)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")

    def handle(self, *args, **options):
        figures = gather()
        if options["json"]:
            self.stdout.write(json.dumps(figures, indent=2))
            return
        na = "unavailable"
        queues = figures["queues"]
        self.stdout.write("Queue depth:     " + (", ".join(
            f"{queue} {na if depth is None else depth}" for queue, depth in queues.items()) if queues else na))
        alive = figures["workers_alive"]
        self.stdout.write(f"Workers alive:   {na if alive is None else alive}"
                          + (f" ({', '.join(figures['workers'])})" if figures["workers"] else ""))
        by_status = figures["orders_today"]
        self.stdout.write("Orders today:    " + (", ".join(
            f"{status} {count}" for status, count in by_status.items()) if by_status is not None else na))
        stuck = figures["stuck_orders"]
        self.stdout.write(f"Stuck orders:    {na if stuck is None else stuck}"
                          + (f" (pending or paid, not updated for over {figures['stuck_after_seconds']} s)"
                             if stuck is not None else ""))
        if by_status is None:
            oldest = na
        elif figures["oldest_pending_order"]:
            oldest = f"{format_age(figures['oldest_pending_age_seconds'])} (order {figures['oldest_pending_order']})"
        else:
            oldest = "none pending"
        self.stdout.write(f"Oldest pending:  {oldest}")
        held = figures["stock_held_by_unpaid"]
        self.stdout.write(f"Held by unpaid:  {na if held is None else held} units in {figures['unpaid_orders']} orders"
                          if held is not None else f"Held by unpaid:  {na}")
        failures = figures["task_failures_last_hour"]
        self.stdout.write(f"Task failures, last hour: {na if failures is None else failures}")
        for part, error in figures["errors"].items():
            self.stderr.write(f"{part} unavailable: {error}")
