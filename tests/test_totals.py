"""An order's totals (orders/totals.py): one identity, in integer minor units, never negative,

    total = subtotal − discount + shipping            (prices include tax: tax is the part that is tax)
    total = subtotal − discount + shipping + tax      (prices exclude it)

over any cart, rates, discount code and both tax conventions; then the pieces it is made of
(shipping methods, tax rates and their rounding, discount codes) against the database."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.models import TaxClass
from discounts.models import Voucher
from orders.totals import LineTotal, compute
from shipping.rates import Quote
from tax.calculation import RateTable, tax_on

CURRENCIES = ["usd", "jpy", "bhd", "isk"]


class FixedRates(RateTable):
    """The rate table, with the rates given instead of read from the database."""

    def __init__(self, rates):
        self.fixed = rates

    def rates(self, country, region):
        return self.fixed


@st.composite
def carts(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    step = {"usd": 1, "jpy": 1, "bhd": 10, "isk": 100}[currency]
    skus = draw(st.lists(st.sampled_from([f"SKU-{i}" for i in range(8)]), min_size=1, max_size=6, unique=True))
    lines = [LineTotal(sku, i + 1, draw(st.integers(1, 100)), draw(st.integers(1, 500_000)) * step,
                       draw(st.integers(0, 5000)), draw(st.sampled_from(list(TaxClass.values))))
             for i, sku in enumerate(skus)]
    kind = draw(st.sampled_from([None, "percent", "fixed", "free_shipping"]))
    voucher = None
    if kind is not None:
        voucher = Voucher(code="CODE", kind=kind, currency=currency,
                          percent=draw(st.decimals(Decimal("0.01"), Decimal("100"), places=2)),
                          amount=draw(st.integers(1, 10_000_000)) * step)
        only = draw(st.lists(st.sampled_from([line.product_id for line in lines]), unique=True))
        voucher._eligible = set(only)  # the product restriction, without the database (see below)
    rates = {tax_class: (draw(st.decimals(Decimal("0"), Decimal("30"), places=3)), "VAT")
             for tax_class in draw(st.lists(st.sampled_from(list(TaxClass.values)), unique=True))}
    shipping = Quote("m", "Method", draw(st.integers(0, 50_000)) * step, currency, 1, 3)
    return lines, currency, voucher, rates, shipping, draw(st.booleans())


@settings(max_examples=400, deadline=None)
@given(case=carts())
def test_the_totals_identity_holds_for_any_cart_rates_code_and_tax_convention(case, monkeypatch_module):
    lines, currency, voucher, rates, shipping, included = case

    totals = compute(lines, country="DE", currency=currency, voucher=voucher, prices_include_tax=included,
                     quote=shipping, taxes=FixedRates(rates))

    expected = totals.subtotal - totals.discount + totals.shipping + (0 if included else totals.tax)
    assert totals.total == expected
    assert min(totals.subtotal, totals.discount, totals.shipping, totals.tax, totals.total) >= 0
    assert totals.subtotal == sum(line.unit_price * line.quantity for line in lines)
    assert totals.discount <= totals.subtotal
    assert sum(line.discount for line in lines) == totals.discount  # each line knows its share
    assert all(0 <= line.discount <= line.amount for line in lines)
    assert sum(line.tax for line in lines) + totals.shipping_tax == totals.tax
    assert totals.shipping == (0 if voucher is not None and voucher.kind == "free_shipping" else shipping.price)
    step = {"usd": 1, "jpy": 1, "bhd": 10, "isk": 100}[currency]
    assert all(amount % step == 0 for amount in (totals.total, totals.discount, totals.tax)), "Stripe's steps"


@pytest.fixture(scope="module")
def monkeypatch_module():
    """Vouchers read their product restriction from the database; here from `_eligible`."""
    from discounts import vouchers

    real = vouchers.eligible
    vouchers.eligible = lambda voucher, lines: [
        line for line in lines if not getattr(voucher, "_eligible", None) or line["product_id"] in voucher._eligible]
    yield
    vouchers.eligible = real


@pytest.mark.parametrize("amount,rate,included,tax", [
    (11900, Decimal("19"), True, 1900),  # €119.00 incl. 19% VAT: €19.00 of it is VAT
    (1000, Decimal("19"), True, 160),  # 159.66 → 160 (half up)
    (1000, Decimal("8.875"), False, 89),  # 88.75 → 89: the half goes up
    (1000, Decimal("0"), False, 0),
    (0, Decimal("20"), True, 0),
])
def test_tax_is_rounded_half_up_per_amount_to_the_currency_s_smallest_unit(amount, rate, included, tax):
    assert tax_on(amount, rate, included) == tax


def test_tax_rounds_to_stripe_s_step_for_three_decimal_and_whole_hundredth_currencies():
    assert tax_on(5120, Decimal("10"), False, step=10) == 510  # BHD: 512 fils → 510 (last digit 0)
    assert tax_on(50000, Decimal("24"), True, step=100) == 9700  # ISK: 96.77 kr. → 97 kr.
