from django.core.management.base import BaseCommand, CommandError

from orders import operations
from orders.management.commands._orders import get_order


class Command(BaseCommand):
    help = ("Re-enqueue orders.tasks.fulfill_order for a pending or paid order (safe to repeat: the task "
            "charges at most once and fans out idempotently). Writes an OrderEvent.")

    def add_arguments(self, parser):
        parser.add_argument("order_id", help="the order's public id (UUID)")

    def handle(self, order_id, **options):
        order = get_order(order_id)
        try:
            operations.retry_fulfillment(order, actor="manage.py fulfill_order")
        except operations.OperationRefused as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"fulfill_order enqueued for {order.id} (status {order.status})")
