from django.core.management.base import BaseCommand, CommandError

from orders import operations
from orders.management.commands._orders import get_order
from payments import refund


class Command(BaseCommand):
    help = ("Refund a paid or fulfilled order: Stripe refund (once, with an idempotency key), restock, "
            "order -> refunded, refund e-mail. Queues payments.tasks.refund_order unless --now, which "
            "refunds in this process and prints the result.")

    def add_arguments(self, parser):
        parser.add_argument("order_id", help="the order's public id (UUID)")
        parser.add_argument("--now", action="store_true", help="refund here and now instead of queueing the task")

    def handle(self, order_id, now, **options):
        order = get_order(order_id)
        actor = "manage.py refund_order"
        try:
            if now:
                done = refund.refund(order.id, actor=actor)
                self.stdout.write(f"{order.id}: {'refunded' if done else 'already refunded'}")
            else:
                operations.request_refund(order, actor=actor)
                self.stdout.write(f"refund_order enqueued for {order.id}")
        except (operations.OperationRefused, refund.NotRefundable) as exc:
            raise CommandError(str(exc))
