"""A limited discount code is redeemed exactly once per use, under any concurrency, and a use is
given back, once, when its order ends without a charge (discounts/vouchers.py)."""

import pytest
from django.db.models import Sum

from discounts.models import Redemption, Voucher
from orders.checkout import InvalidDiscount, place_order
from orders.fulfillment import apply_payment
from orders.models import Order
from payments.charge import Result
from payments.models import Payment
from tests.concurrency import run_concurrently
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)
ADDRESS = {"name": "A", "line1": "1 Road", "line2": "", "city": "C", "postal_code": "P", "country": "GB"}


@pytest.fixture
def mug(db):
    return ProductFactory(sku="MUG-001", unit_price=1800, stock__available=1000)


def checkout(mug, email, code):
    return place_order(email=email, lines=[{"product": mug, "quantity": 1}], payment_method="pm_card_visa",
                       shipping_address=ADDRESS, discount_code=code)[0]


def test_fifty_checkouts_racing_for_ten_uses_make_exactly_ten_discounted_orders(mug, broker):
    """Each racer buys a product of its own: no stock row makes them take turns, only the code."""
    Voucher.objects.create(code="TEN", kind="fixed", amount=500, currency="usd", usage_limit=10)
    products = [ProductFactory(sku=f"RACE-{i}", unit_price=1800, stock__available=5) for i in range(50)]

    def attempt(i):
        try:
            return checkout(products[i], f"racer-{i}@example.com", "ten").discount
        except InvalidDiscount as exc:
            return str(exc)

    answers = run_concurrently(attempt, 50)

    assert sorted(a for a in answers if isinstance(a, int)) == [500] * 10
    assert sorted(a for a in answers if not isinstance(a, int)) == ["TEN has been used up."] * 40
    assert Order.objects.count() == 10 and Order.objects.aggregate(d=Sum("discount"))["d"] == 5000
    assert Voucher.objects.get(code="TEN").uses == 10 == Redemption.objects.count()
    print(f"\nvoucher race: 50 checkouts, {Order.objects.count()} placed with the code, "
          f"{answers.count('TEN has been used up.')} refused")


def test_one_e_mail_racing_itself_uses_a_once_per_e_mail_code_once(mug, broker):
    Voucher.objects.create(code="ONCE", kind="percent", percent=10, per_email_limit=1)

    products = [ProductFactory(sku=f"TWIN-{i}", unit_price=1800, stock__available=5) for i in range(8)]

    answers = run_concurrently(lambda i: isinstance(_try(products[i], "twin@example.com", "ONCE"), Order), 8)

    assert answers.count(True) == 1
    assert Redemption.objects.filter(email="twin@example.com").count() == 1


def _try(mug, email, code):
    try:
        return checkout(mug, email, code)
    except InvalidDiscount as exc:
        return exc


def test_a_use_is_given_back_once_when_its_order_ends_without_a_charge(mug, broker):
    voucher = Voucher.objects.create(code="TWO", kind="percent", percent=10, usage_limit=2)
    order = checkout(mug, "declined@example.com", "TWO")
    Payment.objects.create(order=order, amount=order.total, currency="usd")
    assert Voucher.objects.get(pk=voucher.pk).uses == 1

    apply_payment(order, Result("failed", "Your card was declined.", declined=True))
    apply_payment(order, Result("failed", "Your card was declined.", declined=True))  # the webhook, again

    assert Voucher.objects.get(pk=voucher.pk).uses == 0
    assert Redemption.objects.get(order_id=order.pk).returned_at is not None
    assert isinstance(_try(mug, "declined@example.com", "TWO"), Order)  # usable again by that address


def test_a_canceled_order_gives_its_use_back(mug, broker, admin_user):
    from orders.operations import cancel

    voucher = Voucher.objects.create(code="BACK", kind="percent", percent=10, usage_limit=1)
    order = checkout(mug, "cancel@example.com", "BACK")

    cancel(order, actor="ops-ann")

    assert Voucher.objects.get(pk=voucher.pk).uses == 0


def test_a_paid_order_keeps_its_use(mug, broker):
    voucher = Voucher.objects.create(code="KEEP", kind="percent", percent=10, usage_limit=1)
    order = checkout(mug, "paid@example.com", "KEEP")
    Payment.objects.create(order=order, amount=order.total, currency="usd")

    apply_payment(order, Result("succeeded", "Charged."))

    assert Voucher.objects.get(pk=voucher.pk).uses == 1
    assert isinstance(_try(mug, "someone@example.com", "KEEP"), InvalidDiscount)
