"""Returns: what a shopper may send back, and each step of a return. The one place a Return changes.

1. `request()` (the shopper, from the order page or the API): within RETURN_WINDOW_DAYS of the
   order's fulfillment, some units of its lines, with a reason. The order's row is locked while
   the units are counted, so two requests for the same units cannot both pass: a unit is
   returnable while no other return that is not rejected holds it.
2. `approve()` / `reject()` (ops, in the admin or by manage.py): conditional updates, so a
   return is decided once.
3. `receive()` (ops: the parcel came back): in one transaction, the return becomes received
   (conditionally: once), its units go back on the shelves of the warehouses that sent them
   (orders.stock.return_units), and a partial refund of the lines' share is requested from the
   existing refund machinery (orders.refunds.request: the refund_order task, Stripe's
   idempotency keys, the webhooks). A receipt counted twice is refused by the status update,
   so the refund exists once; at most what is left of the charge is asked.

Every step writes an OrderEvent on the order.
"""

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.money import format_money
from orders import outbox, refunds, totals
from orders.models import Order, OrderEvent, OrderStatus, Shipment
from orders.stock import return_units
from payments.models import Payment
from payments.refunds import reserved_total
from returns.models import Return, ReturnLine

OPEN = (Return.Status.REQUESTED, Return.Status.APPROVED, Return.Status.RECEIVED)  # hold their units


class ReturnRefused(Exception):
    """Why the return (or step) was refused; `field` names the request's field at fault."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


def fulfilled_at(order):
    return (OrderEvent.objects.filter(order=order, to_status=OrderStatus.FULFILLED)
            .order_by("created_at").values_list("created_at", flat=True).first())


def window_closes(order):
    """When the order's return window closes (None while it is not fulfilled)."""
    done = fulfilled_at(order)
    return done + timedelta(days=settings.RETURN_WINDOW_DAYS) if done else None


def units_held(order, statuses=OPEN):
    """{order line id: units} in the order's returns with those statuses."""
    held = Counter()
    for line_id, quantity in ReturnLine.objects.filter(ret__order=order, ret__status__in=statuses).values_list(
            "order_line_id", "quantity"):
        held[line_id] += quantity
    return held


def returnable(order):
    """[(order line, units the shopper may still return)]; empty when the order cannot be
    returned (not fulfilled, or the window closed)."""
    if why_not(order):
        return []
    held = units_held(order)
    return [(line, line.quantity - held[line.pk]) for line in order.lines.all()]


def why_not(order):
    """Why the order cannot be returned now, or "" when it can."""
    if order.status != OrderStatus.FULFILLED:
        return f"only a fulfilled order can be returned; this one is {order.status}"
    closes = window_closes(order)
    if closes is None or timezone.now() > closes:
        return (f"the return window ({settings.RETURN_WINDOW_DAYS} days from fulfillment) closed"
                + (f" on {closes:%d %b %Y}" if closes else ""))
    return ""


def send_to(ret):
    """The warehouses the return's units go back to: those that shipped them."""
    skus = [line.sku for line in ret.lines.all()]
    return [s.warehouse for s in Shipment.objects.filter(order_id=ret.order_id, lines__sku__in=skus,
                                                          warehouse__isnull=False)
            .select_related("warehouse").distinct().order_by("pk")]


@transaction.atomic
def request(order, lines, reason, actor="shopper"):
    """Open a return of `lines` ([{"sku", "quantity"}]) with `reason`. Returns the Return."""
    order = Order.objects.select_for_update().get(pk=order.pk)  # returns of one order, one at a time
    if why := why_not(order):
        raise ReturnRefused(why)
    reason = (reason or "").strip()
    if not reason:
        raise ReturnRefused("say why the items are coming back", field="reason")
    if len(reason) > 1000:
        raise ReturnRefused("at most 1000 characters", field="reason")
    wanted = _wanted(order, lines)
    held = units_held(order)
    for line, quantity in wanted:
        left = line.quantity - held[line.pk]
        if quantity > left:
            raise ReturnRefused(f"{line.sku}: {left} of {line.quantity} can still be returned"
                                + (" (the others are in another return)" if held[line.pk] else ""), field="lines")
    ret = Return.objects.create(order=order, reason=reason)
    amount = 0
    for line, quantity in wanted:
        share = totals.returned_share(line, order.prices_include_tax, held[line.pk], quantity)
        ReturnLine.objects.create(ret=ret, order_line=line, sku=line.sku, quantity=quantity, amount=share)
        amount += share
    Return.objects.filter(pk=ret.pk).update(amount=amount)
    ret.amount = amount
    OrderEvent.objects.create(order=order, actor=actor, message=(
        f"Return {ret.pk} requested: {ret.lines_text()} ({format_money(amount, order.currency)}): {reason}"))
    _emit("return.requested", ret, reason=reason)
    return ret


def _emit(event_type, ret, **more):
    """The return's step as an order event (orders/outbox.py), in the step's transaction: the
    shopper's e-mail (notifications/) and the ERP's webhook learn of it from there."""
    outbox.emit(event_type, ret.order_id, {
        "return_id": ret.pk, "status": ret.status, "amount": ret.amount, "currency": ret.order.currency,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in ret.lines.all()], **more})


def _wanted(order, lines):
    """The request's lines as [(order line, quantity)], each an order line once."""
    if not isinstance(lines, list) or not lines:
        raise ReturnRefused("choose at least one item to return", field="lines")
    by_sku = {line.sku: line for line in order.lines.all()}
    wanted = Counter()
    for item in lines:
        sku = item.get("sku") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if sku not in by_sku:
            raise ReturnRefused(f"{sku!r} is not in this order", field="lines")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ReturnRefused(f"{sku}: the quantity must be a whole number of at least 1", field="lines")
        wanted[sku] += quantity
    return [(by_sku[sku], quantity) for sku, quantity in wanted.items()]


def _step(return_id, actor, from_statuses, to_status, message, **fields):
    """Move a return conditionally (once), with an OrderEvent; refuse when it is elsewhere."""
    _order_of(return_id)
    moved = Return.objects.filter(pk=return_id, status__in=from_statuses).update(status=to_status, **fields)
    ret = Return.objects.select_related("order").get(pk=return_id)
    if not moved:
        raise ReturnRefused(f"return {return_id} is {ret.status}: it cannot become {to_status}")
    OrderEvent.objects.create(order=ret.order, actor=actor, message=message(ret))
    return ret


@transaction.atomic
def approve(return_id, actor):
    ret = _step(return_id, actor, [Return.Status.REQUESTED], Return.Status.APPROVED,
                lambda ret: f"Return {ret.pk} approved: the shopper sends the goods back.",
                decided_by=actor, decided_at=timezone.now())
    _emit("return.approved", ret)
    return ret


@transaction.atomic
def reject(return_id, actor, note=""):
    note = (note or "").strip()
    ret = _step(return_id, actor, [Return.Status.REQUESTED, Return.Status.APPROVED], Return.Status.REJECTED,
                lambda ret: f"Return {ret.pk} rejected" + (f": {note}" if note else "."),
                decided_by=actor, decided_at=timezone.now(), note=note)
    _emit("return.rejected", ret, note=note)
    return ret


@transaction.atomic
def receive(return_id, actor):
    """The goods are back: received (once), restocked where they came from, their share refunded."""
    order = Order.objects.select_for_update().get(pk=_order_of(return_id))  # the order's row first, as request()
    received_before = units_held(order, statuses=[Return.Status.RECEIVED])
    ret = _step(return_id, actor, [Return.Status.APPROVED], Return.Status.RECEIVED,
                lambda ret: f"Return {ret.pk} received: {ret.lines_text()} back in stock.",
                received_by=actor, received_at=timezone.now())
    amount = 0
    for line in ret.lines.select_related("order_line"):
        share = totals.returned_share(line.order_line, order.prices_include_tax, received_before[line.order_line_id],
                                      line.quantity)
        ReturnLine.objects.filter(pk=line.pk).update(amount=share)
        amount += share
        return_units(order, line.order_line.product_id, line.quantity)
    # At most what is left of the charge (staff may have refunded some by hand meanwhile).
    payment = Payment.objects.filter(order=order).first()
    amount = min(amount, payment.amount - reserved_total(payment)) if payment else 0
    refund = None
    if amount > 0 and order.status in refunds.REFUNDABLE:
        refund = refunds.request(order, actor, amount=amount, reason=f"Return {ret.pk}: {ret.lines_text()}")
    Return.objects.filter(pk=ret.pk).update(amount=refund.amount if refund else 0, refund=refund)
    ret.refresh_from_db()
    _emit("return.received", ret)
    return ret


def _order_of(return_id):
    try:
        return Return.objects.values_list("order_id", flat=True).get(pk=return_id)
    except (Return.DoesNotExist, ValueError):
        raise ReturnRefused(f"no return {return_id!r}") from None
