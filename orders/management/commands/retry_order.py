from django.core.management.base import BaseCommand, CommandError

from orders import operations
from orders.management.commands._orders import get_order


class Command(BaseCommand):
    help = ("Retry a needs_review order from scratch, with a fresh attempt budget (its cause was transient, "
            "or is fixed): back to paid if it was charged, else to pending, and fulfill_order re-enqueued "
            "(it looks at Stripe first). Refused when its payment failed (cancel it) or money was refunded.")

    def add_arguments(self, parser):
        parser.add_argument("order_id", help="the order's public id (UUID)")

    def handle(self, order_id, **options):
        order = get_order(order_id)
        try:
            outcome = operations.mark_reviewed(order, actor="manage.py retry_order")
        except operations.OperationRefused as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"{order.id}: {outcome}")
