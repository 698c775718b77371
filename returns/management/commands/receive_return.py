from catalog.money import format_money
from returns import services
from returns.management.commands._returns import ReturnStepCommand


class Command(ReturnStepCommand):
    help = ("Mark an approved return's goods received, as ops do in the admin: they go back into the "
            "warehouses they came from, and the lines' share is refunded (once: the refund_order task).")
    name = "receive_return"
    step = services.receive

    def describe(self, ret):
        if ret.refund_id:
            return f"received; refund of {format_money(ret.refund.amount, ret.order.currency)} queued"
        return "received; nothing left to refund"
