import time

from django.core.management.base import BaseCommand, CommandError

from catalog.money import MoneyError, parse_money
from harbor.locks import order_lock
from orders import operations, refunds
from orders.management.commands._orders import get_order


NOW_WAIT = 15  # seconds --now waits for a task that holds the order


class Command(BaseCommand):
    help = ("Refund a charged order (paid, fulfilled, or in review): all that is left at Stripe, or --amount. "
            "Queues orders.tasks.refund_order unless --now, which makes the refund here and prints the "
            "order's status. The order becomes refunded once the whole amount is back; stock goes back "
            "if nothing shipped, or with --restock (the goods came back).")

    def add_arguments(self, parser):
        parser.add_argument("order_id", help="the order's public id (UUID)")
        parser.add_argument("--amount", default=None,
                            help="refund only this much, in the order's currency as people write it (5.00 for "
                                 "$5.00, 500 for ¥500); default: all left")
        parser.add_argument("--reason", default="", help="why (kept on the refund and the order's history)")
        parser.add_argument("--restock", action="store_true", help="the goods came back: restock when refunded in full")
        parser.add_argument("--now", action="store_true", help="make the refund here and now instead of queueing the task")

    def handle(self, order_id, amount, reason, restock, now, **options):
        order = get_order(order_id)
        actor = "manage.py refund_order"
        if amount is not None:
            try:
                amount = parse_money(amount, order.currency)  # the currency's own minor units
            except MoneyError as exc:
                raise CommandError(f"--amount {amount}: {exc}") from None
        try:
            outcome = operations.request_refund(order, actor=actor, amount=amount, reason=reason, restock=restock)
        except operations.OperationRefused as exc:
            raise CommandError(str(exc))
        if now:
            # Under the order's lock, as the task: the queued task then finds the refund made.
            # A task that is just finishing (a receipt, a label) may still hold it: wait a little
            # for it rather than leave "--now" to the queue.
            deadline = time.monotonic() + NOW_WAIT
            while True:
                with order_lock(order.id) as held:
                    if held:
                        done = refunds.carry_out(order.id, actor=actor)
                        break
                if time.monotonic() > deadline:
                    done = "a task holds the order: queued"
                    break
                time.sleep(0.2)
            self.stdout.write(f"{order.id}: {done}")
        else:
            self.stdout.write(f"{order.id}: {outcome}")
