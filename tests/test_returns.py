"""Returns, as the specification: a shopper opens one on a fulfilled order within the window,
for units no other return holds; ops approve or reject it and mark the goods received; on
receipt the units go back into the warehouses that sent them and the lines' share is
refunded through the refund machinery, once, however often or concurrently it is asked.

The end-to-end proof (a real worker, the refund counted at localstripe) is at the bottom,
and in the browser in tests/browser/test_returns.py."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone
from hypothesis import given, settings as hsettings, strategies as st

from catalog.models import Product
from inventory.models import Allocation, Stock
from orders import links, totals
from orders.checkout import place_order
from orders.models import Order, OrderEvent, OrderLine
from orders.state import transition
from orders.stock import stock_drift
from payments import gateway
from payments.models import Payment, Refund
from returns import services
from returns.models import Return
from tests.concurrency import run_concurrently
from tests.conftest import eventually, queued_tasks, wait_for_status
from tests.realworker import wait_until_idle
from tests.factories import ProductFactory, StockFactory, WarehouseFactory

GB = {"name": "Ada Lovelace", "line1": "12 Dock Road", "line2": "", "city": "Portsmouth", "postal_code": "PO1 3AX",
      "country": "GB"}


def fulfilled_order(lines=(("MUG-001", 3, 1800), ("TEE-BLK-M", 1, 2400)), email="back@example.com"):
    """An order as the pipeline leaves it: stock taken, charged (Payment succeeded), fulfilled."""
    wanted = [{"product": Product.objects.filter(sku=sku).first() or ProductFactory(sku=sku, unit_price=price),
               "quantity": n} for sku, n, price in lines]
    order, _ = place_order(email=email, lines=wanted, payment_method="pm_card_visa", shipping_address=GB)
    Payment.objects.create(order=order, amount=order.total, currency=order.currency, status="succeeded",
                           payment_intent_id=f"pi_{order.pk.hex}")
    transition(order.pk, "pending", "paid")
    transition(order.pk, "paid", "fulfilled")
    return Order.objects.get(pk=order.pk)


def ask(api, order, lines, reason="too small"):
    return api.post(f"/api/orders/{order.pk}/returns/", {"lines": lines, "reason": reason}, format="json")


# --- Asking for a return ---------------------------------------------------------------------

@pytest.mark.django_db
def test_a_fulfilled_order_s_units_can_be_returned_once(api, broker):
    order = fulfilled_order()

    first = ask(api, order, [{"sku": "MUG-001", "quantity": 2}])
    assert first.status_code == 201
    body = first.json()
    assert (body["status"], body["lines"], body["reason"]) == ("requested", [
        {"sku": "MUG-001", "quantity": 2, "amount": 3600}], "too small")
    assert isinstance(body["id"], int) and body["amount"] == 3600 and body["refund_status"] is None

    again = ask(api, order, [{"sku": "MUG-001", "quantity": 2}])
    assert again.status_code == 400
    assert again.json() == {"errors": {"lines": ["MUG-001: 1 of 3 can still be returned (the others are in "
                                                 "another return)"]}}
    assert ask(api, order, [{"sku": "MUG-001", "quantity": 1}]).status_code == 201  # the third is still free
    assert Return.objects.filter(order=order).count() == 2
    assert api.get(f"/api/orders/{order.pk}/returns/").json()[0]["id"] == body["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("lines,reason,field,message", [
    ([], "x", "lines", "Ensure this field has at least 1 elements."),
    ([{"sku": "NOPE", "quantity": 1}], "x", "lines", "'NOPE' is not in this order"),
    ([{"sku": "MUG-001", "quantity": 4}], "x", "lines", "MUG-001: 3 of 3 can still be returned"),
    ([{"sku": "MUG-001", "quantity": 2}, {"sku": "MUG-001", "quantity": 2}], "x", "lines",
     "MUG-001: 3 of 3 can still be returned"),
    ([{"sku": "MUG-001", "quantity": 1}], "   ", "reason", "This field may not be blank."),
])
def test_a_bad_request_is_refused_and_writes_nothing(api, broker, lines, reason, field, message):
    order = fulfilled_order()
    events = OrderEvent.objects.filter(order=order).count()

    response = ask(api, order, lines, reason)

    assert response.status_code == 400
    assert message in str(response.json()["errors"].get(field)), response.json()
    assert not Return.objects.exists() and OrderEvent.objects.filter(order=order).count() == events


@pytest.mark.django_db
def test_only_a_fulfilled_order_inside_the_window_can_be_returned(api, broker, settings):
    order = fulfilled_order()
    OrderEvent.objects.filter(order=order, to_status="fulfilled").update(
        created_at=timezone.now() - timedelta(days=settings.RETURN_WINDOW_DAYS, minutes=1))
    late = ask(api, order, [{"sku": "MUG-001", "quantity": 1}])
    assert late.status_code == 400 and "return window (30 days from fulfillment) closed" in str(late.json())

    settings.RETURN_WINDOW_DAYS = 60
    assert ask(api, order, [{"sku": "MUG-001", "quantity": 1}]).status_code == 201

    Order.objects.filter(pk=order.pk).update(status="paid")
    paid = ask(api, order, [{"sku": "MUG-001", "quantity": 1}])
    assert paid.status_code == 400 and "only a fulfilled order can be returned; this one is paid" in str(paid.json())
    assert api.post("/api/orders/00000000-0000-0000-0000-000000000000/returns/",
                    {"lines": [{"sku": "MUG-001", "quantity": 1}], "reason": "x"}, format="json").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_for_the_same_units_make_one_return(broker):
    order = fulfilled_order()

    def attempt(i):
        try:
            return services.request(order, [{"sku": "MUG-001", "quantity": 2}], f"attempt {i}").pk
        except services.ReturnRefused:
            return None

    answers = run_concurrently(attempt, 12)

    assert sum(a is not None for a in answers) == 1, answers
    assert Return.objects.get().lines.get().quantity == 2


# --- The share of a line ---------------------------------------------------------------------

@given(quantity=st.integers(1, 40), unit=st.integers(1, 100_000), discount_pct=st.integers(0, 100),
       tax=st.integers(0, 50_000), include=st.booleans(), data=st.data())
@hsettings(max_examples=300, deadline=None)
def test_a_line_s_returns_add_up_to_exactly_what_it_cost_however_split(quantity, unit, discount_pct, tax, include,
                                                                       data):
    line = OrderLine(quantity=quantity, unit_price=unit, discount=quantity * unit * discount_pct // 100, tax=tax)
    splits, left = [], quantity
    while left:
        n = data.draw(st.integers(1, left))
        splits.append(n)
        left -= n

    shares, before = [], 0
    for n in splits:
        shares.append(totals.returned_share(line, include, before, n))
        before += n

    assert sum(shares) == totals.line_paid(line, include)
    assert all(share >= 0 for share in shares)
    # Each unit is worth the same, give or take the one minor unit the rounding moves.
    per_unit = totals.line_paid(line, include) / quantity
    assert all(abs(share - n * per_unit) <= 1 for share, n in zip(shares, splits))


def test_a_share_beyond_the_units_left_is_refused():
    line = OrderLine(quantity=2, unit_price=100)
    with pytest.raises(ValueError):
        totals.returned_share(line, True, 1, 2)


# --- Ops' steps ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_each_step_happens_once_and_in_order(broker):
    order = fulfilled_order()
    ret = services.request(order, [{"sku": "MUG-001", "quantity": 1}], "chipped")

    with pytest.raises(services.ReturnRefused, match="only an approved return can be received|cannot become"):
        services.receive(ret.pk, actor="ops")
    services.approve(ret.pk, actor="ops")
    with pytest.raises(services.ReturnRefused, match="is approved: it cannot become approved"):
        services.approve(ret.pk, actor="ops")
    services.receive(ret.pk, actor="ops")
    with pytest.raises(services.ReturnRefused, match="is received: it cannot become received"):
        services.receive(ret.pk, actor="ops")
    with pytest.raises(services.ReturnRefused, match="is received: it cannot become rejected"):
        services.reject(ret.pk, actor="ops")

    assert Refund.objects.filter(payment__order=order).count() == 1
    assert [m for m in OrderEvent.objects.filter(order=order, message__startswith="Return").values_list(
        "message", flat=True)] == [
        "Return {0} requested: 1 × MUG-001 ($18.00): chipped".format(ret.pk),
        "Return {0} approved: the shopper sends the goods back.".format(ret.pk),
        "Return {0} received: 1 × MUG-001 back in stock.".format(ret.pk),
    ]


@pytest.mark.django_db
def test_receiving_puts_the_units_back_where_they_came_from_and_requests_the_share_once(
        broker, django_capture_on_commit_callbacks):
    newark = WarehouseFactory(code="newark", priority=1, countries=["GB"])
    portsmouth = WarehouseFactory(code="portsmouth", priority=2)
    mug = ProductFactory(sku="MUG-001", unit_price=1800, stock=None)
    StockFactory(product=mug, warehouse=newark, available=2)
    StockFactory(product=mug, warehouse=portsmouth, available=2)
    order = fulfilled_order(lines=(("MUG-001", 3, 1800),))  # neither holds 3: 2 from Newark (first), 1 from Portsmouth
    assert dict(Allocation.objects.filter(order_id=order.pk).values_list("warehouse__code", "quantity")) == {
        "newark": 2, "portsmouth": 1}

    ret = services.request(order, [{"sku": "MUG-001", "quantity": 2}], "wrong colour")
    services.approve(ret.pk, actor="ops")
    with django_capture_on_commit_callbacks(execute=True):
        services.receive(ret.pk, actor="ops")

    # Two units back: the order's first allocation (Newark's two) takes them.
    assert dict(Stock.objects.filter(product=mug).values_list("warehouse__code", "available")) == {
        "newark": 2, "portsmouth": 1}
    assert Allocation.objects.filter(order_id=order.pk).aggregate(n=Sum("returned"))["n"] == 2
    assert stock_drift() == {}
    ret.refresh_from_db()
    refund = Refund.objects.get(payment__order=order)
    assert (ret.status, ret.amount, ret.refund, refund.amount, refund.status) == ("received", 3600, refund, 3600,
                                                                                  "requested")
    assert ("orders.tasks.refund_order", [str(order.pk)]) in queued_tasks(broker, "payments")


@pytest.mark.django_db
def test_the_share_keeps_its_tax_and_gives_back_its_part_of_the_discount(broker, settings):
    settings.PRICES_INCLUDE_TAX = False
    order = fulfilled_order(lines=(("MUG-001", 2, 1000),))
    OrderLine.objects.filter(order=order).update(discount=200, tax=360)  # 10% off, then 20% tax
    Order.objects.filter(pk=order.pk).update(prices_include_tax=False)
    order.refresh_from_db()

    ret = services.request(order, [{"sku": "MUG-001", "quantity": 1}], "one too many")

    assert ret.amount == (1000 - 100) + 180  # the unit, less its half of the discount, plus its half of the tax


@pytest.mark.django_db(transaction=True)
def test_a_return_received_concurrently_refunds_once(broker):
    order = fulfilled_order()
    ret = services.request(order, [{"sku": "MUG-001", "quantity": 3}], "all broken")
    services.approve(ret.pk, actor="ops")

    def attempt(i):
        try:
            return services.receive(ret.pk, actor=f"ops-{i}").status
        except services.ReturnRefused:
            return "refused"

    answers = run_concurrently(attempt, 8)

    assert sorted(answers) == ["received"] + ["refused"] * 7
    assert Refund.objects.filter(payment__order=order).count() == 1
    assert Allocation.objects.filter(order_id=order.pk).aggregate(n=Sum("returned"))["n"] == 3
    assert stock_drift() == {}


@pytest.mark.django_db
def test_receiving_asks_at_most_what_is_left_of_the_charge(broker):
    order = fulfilled_order()
    payment = Payment.objects.get(order=order)
    Refund.objects.create(payment=payment, amount=payment.amount - 1000, status="succeeded", stripe_id="re_hand")
    ret = services.request(order, [{"sku": "MUG-001", "quantity": 3}], "all of them")
    services.approve(ret.pk, actor="ops")

    services.receive(ret.pk, actor="ops")

    ret.refresh_from_db()
    assert ret.amount == 1000 and ret.refund.amount == 1000


@pytest.mark.django_db
def test_a_rejected_return_frees_its_units_and_refunds_nothing(broker):
    order = fulfilled_order()
    ret = services.request(order, [{"sku": "MUG-001", "quantity": 3}], "meh")

    services.reject(ret.pk, actor="ops", note="used")

    assert Return.objects.get(pk=ret.pk).note == "used"
    assert services.request(order, [{"sku": "MUG-001", "quantity": 3}], "again").status == "requested"
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_the_shopper_is_emailed_at_each_step_once(broker, mailoutbox):
    """The e-mails learn of each step from the return's event (orders/outbox.py): requested,
    approved (with where to send the goods), received (with the refund) and rejected (with the
    note), one each per return, however often the event is delivered."""
    from notifications.tasks import on_event
    from orders.models import OutboxEvent

    order = fulfilled_order(email="steps@example.com")
    kept = services.request(order, [{"sku": "MUG-001", "quantity": 1}], "chipped")
    services.approve(kept.pk, actor="ops")
    services.receive(kept.pk, actor="ops")
    refused = services.request(order, [{"sku": "TEE-BLK-M", "quantity": 1}], "changed my mind")
    services.reject(refused.pk, actor="ops", note="worn")

    events = OutboxEvent.objects.filter(order=order, type__startswith="return.").order_by("pk")
    assert [(e.type, e.data["return_id"]) for e in events] == [
        ("return.requested", kept.pk), ("return.approved", kept.pk), ("return.received", kept.pk),
        ("return.requested", refused.pk), ("return.rejected", refused.pk)]
    for event in [*events, *events]:  # each delivered twice (a redelivery)
        on_event(event.pk)

    subjects = [m.subject for m in mailoutbox]
    assert subjects == [f"We have your return request for order {order.reference}",
                        f"Your return for order {order.reference} is approved: send the items back",
                        f"Your return for order {order.reference} has arrived",
                        f"We have your return request for order {order.reference}",
                        f"Your return for order {order.reference} was not accepted"]
    assert all(m.to == ["steps@example.com"] for m in mailoutbox)
    assert "1 × MUG-001" in mailoutbox[1].body and "#returns" in mailoutbox[1].body
    assert "Refunding $18.00" in mailoutbox[2].body
    assert "Why: worn" in mailoutbox[4].body
    assert not OutboxEvent.objects.filter(order=order, type__startswith="return.").exclude(pending=[])\
        .filter(pending__contains=["notifications.tasks.on_event"]).exists()  # each struck off


@pytest.mark.django_db
def test_manage_py_approves_rejects_and_receives(broker, capsys):
    order = fulfilled_order()
    kept = services.request(order, [{"sku": "MUG-001", "quantity": 1}], "a")
    dropped = services.request(order, [{"sku": "TEE-BLK-M", "quantity": 1}], "b")

    call_command("approve_return", str(kept.pk))
    call_command("receive_return", str(kept.pk))
    call_command("reject_return", str(dropped.pk), "--note", "worn")
    with pytest.raises(CommandError, match="only an approved return can be received|cannot become received"):
        call_command("receive_return", str(dropped.pk))
    with pytest.raises(CommandError, match="no return 'x'"):
        call_command("approve_return", "x")
    with pytest.raises(CommandError, match="no return 999"):
        call_command("approve_return", "999")

    out = capsys.readouterr().out
    assert f"return {kept.pk} of {order.reference}: received; refund of $18.00 queued" in out
    assert f"return {dropped.pk} of {order.reference}: rejected" in out
    assert Refund.objects.get(payment__order=order).requested_by == "manage.py receive_return"


@pytest.mark.django_db
def test_ops_decide_and_receive_returns_in_the_admin(broker, ops_login):
    order = fulfilled_order()
    ret = services.request(order, [{"sku": "MUG-001", "quantity": 2}], "too big")
    ops = ops_login("ops-rita")
    changelist = "/admin/returns/return/"

    page = ops.get(changelist).content.decode()
    assert "2 × MUG-001" in page and "$36.00" in page
    ops.post(changelist, {"action": "approve", "_selected_action": [ret.pk]})
    done = ops.post(changelist, {"action": "receive", "_selected_action": [ret.pk]}, follow=True)
    assert f"Return {ret.pk} ({order.reference}): received, refund queued" in done.content.decode()
    assert Return.objects.get(pk=ret.pk).status == "received"

    order_page = ops.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert f"Return {ret.pk}" in order_page and "$36.00 requested" in order_page


@pytest.mark.django_db
def test_rejecting_in_the_admin_asks_for_the_reason(broker, ops_login):
    order = fulfilled_order()
    ret = services.request(order, [{"sku": "MUG-001", "quantity": 1}], "x")
    ops = ops_login("ops-ray")
    selected = {"action": "reject", "_selected_action": [ret.pk]}

    assert b"Why (the shopper is told)" in ops.post("/admin/returns/return/", selected).content
    ops.post("/admin/returns/return/", {**selected, "apply": "1", "note": "opened and used"})

    assert Return.objects.values_list("status", "note").get(pk=ret.pk) == ("rejected", "opened and used")


@pytest.mark.django_db
def test_staff_without_the_return_permissions_cannot_decide(broker, client):
    from django.contrib.auth.models import Permission, User

    viewer = User.objects.create_user("looker", "l@example.com", "not-a-secret-3141", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_return"))
    client.force_login(viewer)
    order = fulfilled_order()
    ret = services.request(order, [{"sku": "MUG-001", "quantity": 1}], "x")

    client.post("/admin/returns/return/", {"action": "approve", "_selected_action": [ret.pk]})

    assert Return.objects.get(pk=ret.pk).status == "requested"


# --- The shopper's pages ---------------------------------------------------------------------

@pytest.mark.django_db
def test_the_return_form_opens_only_from_the_signed_link(client, broker):
    order = fulfilled_order()
    token = links.token(order)

    assert client.get(f"/orders/link/{token[:-1]}x/return/").status_code == 404  # a changed signature
    assert client.get(f"/orders/link/{order.reference}/return/").status_code == 404  # none at all
    assert client.get(f"/orders/{order.pk}/return/").status_code == 404  # the order's id opens no form

    page = client.get(f"/orders/link/{token}/return/")
    assert page.status_code == 200 and b"Request the return" in page.content


@pytest.mark.django_db
def test_the_shopper_returns_items_on_the_order_page_and_sees_the_return(client, broker):
    order = fulfilled_order()
    url = f"/orders/link/{links.token(order)}/return/"
    line = order.lines.get(sku="MUG-001")

    bad = client.post(url, {f"qty_{line.pk}": "٣", "reason": "x"})
    assert bad.status_code == 400 and b"Enter a whole number." in bad.content
    too_many = client.post(url, {f"qty_{line.pk}": "4", "reason": "x"})
    assert too_many.status_code == 400 and b"At most 3." in too_many.content
    nothing = client.post(url, {"reason": "x"})
    assert nothing.status_code == 400 and b"Choose at least one item to return." in nothing.content
    assert not Return.objects.exists()

    done = client.post(url, {f"qty_{line.pk}": "2", "reason": "Too small"}, follow=True)
    page = done.content.decode()
    assert "Return" in page and "2 × MUG-001" in page and "we will e-mail you once it is approved" in page
    assert Return.objects.get().reason == "Too small"


# --- End to end: the real worker, the refund counted at localstripe ---------------------------

def test_a_received_return_is_refunded_once_at_stripe(worker, api, product, checkout_body, smtp_sink):
    response = api.post("/api/orders/", checkout_body(email="return-e2e@example.com"), format="json")
    order = wait_for_status(response.json()["id"], ("fulfilled", "payment_failed", "needs_review"))
    assert order.status == "fulfilled"
    (receipt,) = eventually(lambda: smtp_sink.to("return-e2e@example.com", "is on its way"))
    text = receipt.get_body(("plain",)).get_content()
    assert links.path(order, "storefront:order-return") in text and str(order.pk) not in text  # (the worker's SITE_URL)

    created = ask(api, order, [{"sku": "MUG-001", "quantity": 1}], "chipped")
    assert created.status_code == 201
    call_command("approve_return", str(created.json()["id"]))
    call_command("receive_return", str(created.json()["id"]))

    intent = Payment.objects.get(order=order).payment_intent_id
    eventually(lambda: [r.amount for r in gateway.refunds_for_intent(intent)] == [1800], 30)
    eventually(lambda: api.get(f"/api/orders/{order.pk}/returns/").json()[0]["refund_status"] == "succeeded", 30)
    assert Order.objects.get(pk=order.pk).status == "fulfilled"  # a part came back, not the whole order
    assert Payment.objects.get(order=order).amount_refunded == 1800
    with pytest.raises(CommandError):
        call_command("receive_return", str(created.json()["id"]))
    assert [r.amount for r in gateway.refunds_for_intent(intent)] == [1800]
    # The shopper was told at each step, once (the worker's e-mails, from the return's events).
    eventually(lambda: len(smtp_sink.to("return-e2e@example.com", "return")) >= 3, 30)
    wait_until_idle()
    assert sorted(m["Subject"].split(" for order")[0] for m in smtp_sink.to("return-e2e@example.com", "return")) == [
        "We have your return request", "Your return", "Your return"]
    assert len(smtp_sink.to("return-e2e@example.com", "has arrived")) == 1
    assert len(smtp_sink.to("return-e2e@example.com", "is approved")) == 1
