from django.core.management.base import BaseCommand, CommandError

from orders import operations
from orders.management.commands._orders import get_order


class Command(BaseCommand):
    help = ("Cancel an order that was not charged (pending, requires_action or needs_review): its "
            "PaymentIntent is canceled at Stripe first when there is one (queued), the stock released, "
            "the shopper e-mailed. A charged order is refused: refund it instead.")

    def add_arguments(self, parser):
        parser.add_argument("order_id", help="the order's public id (UUID)")
        parser.add_argument("--reason", default="Canceled by staff.", help="kept on the order's history and e-mailed")

    def handle(self, order_id, reason, **options):
        order = get_order(order_id)
        try:
            outcome = operations.cancel(order, actor="manage.py cancel_order", reason=reason)
        except operations.OperationRefused as exc:
            raise CommandError(str(exc))
        self.stdout.write(f"{order.id}: {outcome}")
