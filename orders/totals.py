"""An order's totals: the one place where lines, an address, a shipping method and a discount
code become money. Checkout stores what this returns; the storefront shows it before the
order exists; the API, the receipt, the label, the admin and Stripe all read the stored result.

    subtotal   the lines at their prices (as the catalog has them: tax included when
               PRICES_INCLUDE_TAX, else before tax)
    discount   what the code takes off the lines (discounts.vouchers.allocate), shared out
               over them so each line knows its part
    shipping   the chosen method's price for this cart (shipping.rates); a free-shipping code
               makes it 0
    tax        per line on its amount less its discount, and on shipping (tax.calculation)
    total      subtotal − discount + shipping            where prices include tax (tax is the
                                                        part of that which is tax)
               subtotal − discount + shipping + tax      where they exclude it

All integers in the currency's minor units; never negative (a discount takes at most what the
lines cost). `total` is what Stripe charges and what a full refund returns.
"""

from dataclasses import dataclass, field

from django.conf import settings

from discounts import vouchers
from discounts.models import Voucher
from shipping import rates
from tax.calculation import TaxableLine, calculator


@dataclass
class LineTotal:
    sku: str
    product_id: int
    quantity: int
    unit_price: int
    weight_grams: int = 0
    tax_class: str = "standard"
    discount: int = 0
    tax: int = 0
    tax_rate: object = 0

    @property
    def amount(self):
        return self.unit_price * self.quantity


@dataclass
class Totals:
    currency: str
    prices_include_tax: bool
    lines: list = field(default_factory=list)
    subtotal: int = 0
    discount: int = 0
    shipping: int = 0
    tax: int = 0
    shipping_tax: int = 0
    total: int = 0
    method: rates.Quote | None = None
    voucher: Voucher | None = None
    tax_label: str = "Tax"

    @property
    def free_shipping(self):
        return self.voucher is not None and self.voucher.kind == Voucher.Kind.FREE_SHIPPING


def compute(lines, *, country, region="", currency, method_code=None, voucher=None, prices_include_tax=None):
    """Totals for `lines` (LineTotal) shipped to `country`/`region` by `method_code` (None: the
    cheapest serving the country), with `voucher` (already checked). Raises
    shipping.rates.MethodUnavailable when the method cannot deliver this cart there."""
    include = settings.PRICES_INCLUDE_TAX if prices_include_tax is None else prices_include_tax
    totals = Totals(currency=currency, prices_include_tax=include, lines=lines, voucher=voucher)
    totals.subtotal = sum(line.amount for line in lines)
    plain = [{"sku": line.sku, "product_id": line.product_id, "amount": line.amount} for line in lines]
    shares = vouchers.allocate(voucher, plain, currency)
    for line in lines:
        line.discount = shares.get(line.sku, 0)
    totals.discount = sum(shares.values())
    merchandise = totals.subtotal - totals.discount
    weight = sum(line.weight_grams * line.quantity for line in lines)
    totals.method = rates.quote(method_code, country, merchandise=merchandise, weight=weight, currency=currency)
    totals.shipping = 0 if totals.free_shipping else totals.method.price
    taxed = calculator().calculate(
        lines=[TaxableLine(line.sku, line.amount - line.discount, line.tax_class) for line in lines],
        shipping=totals.shipping, country=country, region=region, currency=currency, prices_include_tax=include)
    for line in lines:
        line.tax, line.tax_rate = taxed.lines.get(line.sku, (0, 0))
    totals.shipping_tax, totals.tax, totals.tax_label = taxed.shipping, taxed.total, taxed.label
    totals.total = merchandise + totals.shipping + (0 if include else totals.tax)
    return totals
