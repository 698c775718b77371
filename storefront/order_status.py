"""What the order status page shows for an order: a status word, a step list and what the
shopper can do next. Read-only: it only presents what the pipeline recorded."""

from dataclasses import dataclass

from catalog.money import format_money
from orders import totals
from orders.models import FINAL, OrderStatus
from payments.models import Refund
from returns import services
from returns.models import Return

HEADLINES = {
    OrderStatus.PENDING: "Processing your payment",
    OrderStatus.REQUIRES_ACTION: "Please authenticate your payment",
    OrderStatus.PAID: "Paid: preparing your shipment",
    OrderStatus.FULFILLED: "Fulfilled: your order is on its way",
    OrderStatus.PAYMENT_FAILED: "Payment failed",
    OrderStatus.CANCELED: "Canceled",
    OrderStatus.REFUNDED: "Refunded",
    OrderStatus.NEEDS_REVIEW: "We are looking into your order",
}
# The status in the shopper's words (the API's status word is the element's data-status).
LABELS = {
    OrderStatus.PENDING: "Processing", OrderStatus.REQUIRES_ACTION: "Action needed", OrderStatus.PAID: "Paid",
    OrderStatus.FULFILLED: "Fulfilled", OrderStatus.PAYMENT_FAILED: "Payment failed",
    OrderStatus.CANCELED: "Canceled", OrderStatus.REFUNDED: "Refunded", OrderStatus.NEEDS_REVIEW: "In review",
}
# How often the live status part of the page asks again (htmx), by status; none once final.
POLL_SECONDS = {OrderStatus.PENDING: 1, OrderStatus.PAID: 1, OrderStatus.REQUIRES_ACTION: 2,
                OrderStatus.NEEDS_REVIEW: 10}


@dataclass
class RefundLine:
    amount: str
    state: str  # in the shopper's words: refunded, on its way, or requested
    when: object


@dataclass
class Step:
    title: str
    state: str  # "done", "current", "failed" or "todo"
    detail: str = ""


def present(order):
    payment = getattr(order, "payment", None)
    # Each parcel (one per warehouse the order ships from), once it has its label.
    parcels = [s for s in order.shipments.select_related("warehouse").prefetch_related("lines") if s.label]
    receipt = next((n for n in order.notifications.all() if n.kind == "receipt" and n.sent_at), None)
    return {
        "order": order,
        "rows": totals.breakdown(order),
        "shipping_estimate": totals.shipping_estimate(order),
        "status": order.status,
        "headline": HEADLINES[order.status],
        "status_label": LABELS[order.status],
        "final": order.status in FINAL,
        "poll_seconds": POLL_SECONDS.get(order.status),
        "steps": _steps(order, payment, parcels, receipt),
        "refunds": _refunds(payment),
        "refunded": format_money(payment.amount_refunded, payment.currency) if payment and payment.amount_refunded else "",
        "shipments": parcels,
        "returns": _returns(order),
        "receipt": receipt,
        "client_secret": payment.client_secret if payment and order.status == OrderStatus.REQUIRES_ACTION else "",
        "payment_error": payment.last_error if payment and order.status == OrderStatus.PAYMENT_FAILED else "",
        "cancel_reason": (order.events.filter(to_status=OrderStatus.CANCELED).values_list("message", flat=True).last()
                          if order.status == OrderStatus.CANCELED else ""),
    }


def _steps(order, payment, parcels, receipt):
    s = order.status
    charged = s in (OrderStatus.PAID, OrderStatus.FULFILLED, OrderStatus.REFUNDED)
    total = format_money(order.total, order.currency)
    if charged:
        refunded = payment.amount_refunded if payment else 0
        pay = Step("Payment", "done", f"{total} charged" + (
            f", {format_money(refunded, payment.currency)} refunded" if refunded else ""))
    elif s == OrderStatus.REQUIRES_ACTION:
        pay = Step("Payment", "current", "Your bank asks you to confirm this payment.")
    elif s == OrderStatus.PAYMENT_FAILED:
        pay = Step("Payment", "failed", "Your card was not charged.")
    elif s == OrderStatus.CANCELED:
        pay = Step("Payment", "failed", "Canceled before payment: nothing was charged.")
    elif s == OrderStatus.NEEDS_REVIEW:
        pay = Step("Payment", "current", "Our team is checking this payment.")
    else:
        pay = Step("Payment", "current", "Charging your card…")
    return [
        Step("Order received", "done", f"{total}, {sum(line.quantity for line in order.lines.all())} item(s)"),
        pay,
        Step("Shipping label" if len(parcels) < 2 else "Shipping labels",
             "done" if parcels else ("current" if s == OrderStatus.PAID else "todo"),
             (f"Tracking number {parcels[0].tracking_number}" if len(parcels) == 1 else
              f"{len(parcels)} parcels" if parcels else "")),
        Step("Receipt", "done" if receipt else ("current" if s == OrderStatus.PAID else "todo"),
             f"Sent to {receipt.to}" if receipt else ""),
    ]


@dataclass
class ReturnView:
    number: int
    lines: str
    status: str
    state: str  # in the shopper's words
    send_to: list


def _returns(order):
    """The order's returns, as the shopper sees them."""
    shown = []
    for ret in order.returns.select_related("refund").prefetch_related("lines"):
        amount = format_money(ret.amount, order.currency)
        if ret.status == Return.Status.REQUESTED:
            state = f"Requested ({amount}): we will e-mail you once it is approved."
        elif ret.status == Return.Status.APPROVED:
            state = f"Approved: please send the items back, marked “Return {ret.pk}”, to the address below."
        elif ret.status == Return.Status.REJECTED:
            state = "Not accepted" + (f": {ret.note}" if ret.note else ".")
        elif ret.refund_id and ret.refund.status == Refund.Status.SUCCEEDED:
            state = f"Received: {format_money(ret.refund.amount, order.currency)} refunded to your card."
        elif ret.refund_id and ret.refund.counts:
            state = f"Received: {format_money(ret.refund.amount, order.currency)} on its way back to your card."
        else:
            state = "Received."
        where = services.send_to(ret) if ret.status == Return.Status.APPROVED else []
        shown.append(ReturnView(ret.pk, ret.lines_text(), ret.status, state, where))
    return shown


def _refunds(payment):
    """The refunds that give money back (or will), oldest first; failed and canceled ones are
    Harbor's business (the order goes to review), not a line on the shopper's page."""
    if payment is None:
        return []
    return [RefundLine(format_money(r.amount, payment.currency) if r.amount is not None else "The rest",
                       REFUND_STATES[r.status], r.updated_at)
            for r in payment.refunds.all() if r.counts]


REFUND_STATES = {Refund.Status.SUCCEEDED: "refunded", Refund.Status.PENDING: "refunded, on its way to your card",
                 Refund.Status.REQUESTED: "refund requested"}
