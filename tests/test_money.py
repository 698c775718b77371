"""Money in each currency's minor unit as Stripe counts it, in one place (catalog/money.py):
what people type becomes minor units and minor units become text by the same rules, for
two-, zero- and three-decimal currencies and Stripe's special cases."""

import pytest
from django.core.management import CommandError, call_command

from catalog.money import MoneyError, currency, format_money, parse_money
from orders.models import Order
from payments.models import Payment


@pytest.mark.parametrize("code,typed,minor,shown", [
    ("usd", "5", 500, "$5.00"),
    ("usd", "5.25", 525, "$5.25"),
    ("usd", "1,234.50", 123450, "$1,234.50"),
    ("jpy", "500", 500, "¥500"),  # zero-decimal: ¥500 is 500, not 50000
    ("krw", "15000", 15000, "15,000 KRW"),
    ("isk", "5", 500, "5 ISK"),  # zero-decimal in effect, two decimals in Stripe's API
    ("huf", "5.50", 550, "5.50 HUF"),  # two decimals for charges
    ("twd", "100", 10000, "100.00 TWD"),
    ("bhd", "5.12", 5120, "5.120 BHD"),  # three decimals, the last one 0
    ("bhd", "5.120", 5120, "5.120 BHD"),
])
def test_amounts_are_parsed_and_shown_in_the_currencys_minor_units(code, typed, minor, shown):
    assert parse_money(typed, code) == minor
    assert format_money(minor, code) == shown


@pytest.mark.parametrize("code,typed,why", [
    ("usd", "5.001", "2 decimals"),
    ("jpy", "5.5", "0 decimals"),
    ("krw", "0.1", "0 decimals"),
    ("isk", "5.50", "0 decimals"),  # Stripe takes only whole krónur
    ("ugx", "1000.5", "0 decimals"),
    ("bhd", "5.125", "multiple of"),  # Stripe takes only a last digit of 0
    ("usd", "0", "more than zero"),
    ("usd", "-5", "in digits"),
    ("usd", "５", "in digits"),  # fullwidth digits
    ("usd", "٥", "in digits"),  # Arabic-Indic
    ("usd", "²", "in digits"),
    ("usd", "1e3", "in digits"),
    ("usd", "", "in digits"),
])
def test_what_stripe_would_refuse_is_refused_with_a_reason(code, typed, why):
    with pytest.raises(MoneyError, match=why):
        parse_money(typed, code)


def test_stripe_s_exponents_and_steps():
    assert [(currency(c).exponent, currency(c).step) for c in ("usd", "jpy", "krw", "isk", "ugx", "huf", "twd",
                                                               "bhd")] == [
        (2, 1), (0, 1), (0, 1), (2, 100), (2, 100), (2, 1), (2, 1), (3, 10)]


@pytest.fixture
def yen_order(db):
    order = Order.objects.create(email="yen@example.com", shipping_address={}, payment_method="pm_x", total=5000,
                                 currency="jpy", status="fulfilled")
    Payment.objects.create(order=order, amount=5000, currency="jpy", status="succeeded", payment_intent_id="pi_yen")
    return order


def test_a_yen_refund_of_500_asks_for_500_yen_not_50000(yen_order, broker):
    call_command("refund_order", str(yen_order.pk), "--amount", "500", stdout=open("/dev/null", "w"))

    assert list(Payment.objects.get(order=yen_order).refunds.values_list("amount", flat=True)) == [500]


def test_the_command_refuses_decimals_the_currency_does_not_have(yen_order, broker):
    with pytest.raises(CommandError, match="JPY amounts have 0 decimals"):
        call_command("refund_order", str(yen_order.pk), "--amount", "5.50")
    assert not Payment.objects.get(order=yen_order).refunds.exists()


def test_the_admin_refund_form_reads_the_amount_in_the_order_s_currency(yen_order, admin_client, broker):
    page = admin_client.post(f"/admin/orders/order/{yen_order.pk}/refund/", {"amount": "500", "reason": "damaged"})
    bad = admin_client.post(f"/admin/orders/order/{yen_order.pk}/refund/", {"amount": "4.99", "reason": "damaged"})

    assert page.status_code == 302
    assert bad.status_code == 200 and "JPY amounts have 0 decimals" in bad.content.decode()
    assert list(Payment.objects.get(order=yen_order).refunds.values_list("amount", flat=True)) == [500]
