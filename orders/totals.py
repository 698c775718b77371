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
lines cost). `total` is what Stripe charges and what a full refund returns; a return gives
back its lines' share (`returned_share`: paid less discount, with tax; shipping stays).
"""

from dataclasses import dataclass, field

from django.conf import settings

from catalog import cache
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


def compute(lines, *, country, region="", currency, method_code=None, voucher=None, prices_include_tax=None,
            quote=None, taxes=None):
    """Totals for `lines` (LineTotal) shipped to `country`/`region` by `method_code` (None: the
    cheapest serving the country), with `voucher` (already checked). Raises
    shipping.rates.MethodUnavailable when the method cannot deliver this cart there. (`quote`
    and `taxes` stand in for the configured shipping and tax calculator: the identity's
    property test gives its own.)"""
    with cache.pinned(cache.PRICING):  # shipping and tax from one version of the pricing: one GET
        return _compute(lines, country, region, currency, method_code, voucher, prices_include_tax, quote, taxes)


def _compute(lines, country, region, currency, method_code, voucher, prices_include_tax, quote, taxes):
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
    totals.method = quote or rates.quote(method_code, country, merchandise=merchandise, weight=weight,
                                         currency=currency)
    totals.shipping = 0 if totals.free_shipping else totals.method.price
    taxed = (taxes or calculator()).calculate(
        lines=[TaxableLine(line.sku, line.amount - line.discount, line.tax_class) for line in lines],
        shipping=totals.shipping, country=country, region=region, currency=currency, prices_include_tax=include)
    for line in lines:
        line.tax, line.tax_rate = taxed.lines.get(line.sku, (0, 0))
    totals.shipping_tax, totals.tax, totals.tax_label = taxed.shipping, taxed.total, taxed.label
    totals.total = merchandise + totals.shipping + (0 if include else totals.tax)
    return totals


@dataclass(frozen=True)
class Row:
    label: str
    amount: str
    kind: str = ""  # "discount", "tax-included" (a note, not added), "total"


def breakdown(order):
    """The stored totals as people read them, in one place for the status page, the receipt,
    the label and the admin: Subtotal, Discount (code), Shipping (method, estimate), Tax (added)
    or "incl. VAT" (a note), Total. Amounts formatted in the order's currency."""
    return _rows(order.currency, order.subtotal, order.discount, order.discount_code, order.shipping_method_name,
                 shipping_estimate(order), order.shipping, order.tax, order.tax_label, order.prices_include_tax,
                 order.total)


def breakdown_of(figures):
    """The same rows for totals not stored yet (the checkout page's preview)."""
    method = figures.method
    estimate = method.estimate if method else ""
    return _rows(figures.currency, figures.subtotal, figures.discount, figures.voucher.code if figures.voucher else "",
                 method.name if method else "", estimate, figures.shipping, figures.tax, figures.tax_label,
                 figures.prices_include_tax, figures.total)


def _rows(currency, subtotal, discount, code, method_name, estimate, shipping, tax, tax_label, included, total):
    from catalog.money import format_money

    money = lambda amount: format_money(amount, currency)  # noqa: E731
    rows = [Row("Subtotal", money(subtotal))]
    if discount or code:
        rows.append(Row(f"Discount ({code})" if code else "Discount", f"−{money(discount)}", "discount"))
    if method_name:
        rows.append(Row(f"Shipping: {method_name}" + (f", {estimate}" if estimate else ""),
                        money(shipping) if shipping else "Free"))
    elif shipping:
        rows.append(Row("Shipping", money(shipping)))
    label = tax_label or "Tax"
    if included:
        if tax:
            rows.append(Row(f"incl. {label}", money(tax), "tax-included"))
    elif tax or tax_label:
        rows.append(Row(label, money(tax)))
    rows.append(Row("Total", money(total), "total"))
    return rows


def line_paid(line, prices_include_tax):
    """What the shopper paid for an order line: its amount less its share of the discount,
    plus its tax where prices exclude tax (where they include it, the tax is in the price)."""
    return line.quantity * line.unit_price - line.discount + (0 if prices_include_tax else line.tax)


def returned_share(line, prices_include_tax, before, units):
    """What returning `units` more of `line` gives back, when `before` of its units came back
    already: the line's paid amount pro rata, as the difference of two cumulative shares, so the
    returns of a line add up to exactly what it cost however it is split (never a minor unit
    more or less). Shipping is not part of it."""
    paid = line_paid(line, prices_include_tax)

    def share(n):  # the cumulative share of the first n units, rounded half up
        return (2 * paid * n + line.quantity) // (2 * line.quantity)

    if not 0 < units <= line.quantity - before:
        raise ValueError(f"{units} units back of a line of {line.quantity} with {before} back already")
    return share(before + units) - share(before)


def shipping_estimate(order):
    low, high = order.shipping_min_days, order.shipping_max_days
    if high is None:
        return ""
    if low is None or low == high:
        return f"{high} business day{'s' if high != 1 else ''}"
    return f"{low}–{high} business days"


@dataclass
class CartPrice:
    """What the checkout page shows before the order exists: the methods serving the country,
    the one chosen, the totals, and why a code or a method was refused."""

    quotes: list = field(default_factory=list)
    chosen: str = ""
    totals: Totals | None = None
    errors: dict = field(default_factory=dict)


def price_cart(lines, *, country, region="", currency, method_code=None, discount_code="", email=""):
    """Price a cart for the checkout page (nothing is redeemed or written: a preview of what
    checkout will compute, which can still differ if a code's last use goes meanwhile)."""
    with cache.pinned(cache.PRICING):
        return _price_cart(lines, country, region, currency, method_code, discount_code, email)


def _price_cart(lines, country, region, currency, method_code, discount_code, email):
    result = CartPrice()
    voucher = None
    if discount_code:
        plain = [{"sku": line.sku, "product_id": line.product_id, "amount": line.amount} for line in lines]
        try:
            voucher = vouchers.preview(discount_code, lines=plain, email=email, currency=currency)
        except vouchers.VoucherRefused as exc:
            result.errors["discount_code"] = str(exc)
    if not country or not lines:
        return result
    plain = [{"sku": line.sku, "product_id": line.product_id, "amount": line.amount} for line in lines]
    merchandise = sum(line.amount for line in lines) - sum(vouchers.allocate(voucher, plain, currency).values())
    weight = sum(line.weight_grams * line.quantity for line in lines)
    result.quotes = rates.quotes(country, merchandise=merchandise, weight=weight, currency=currency)
    if not result.quotes:
        result.errors["shipping_method"] = "We cannot ship this cart to that country."
        return result
    codes = [quote.code for quote in result.quotes]
    if method_code and method_code not in codes:
        result.errors["shipping_method"] = "That shipping method does not deliver there: choose another."
    result.chosen = method_code if method_code in codes else codes[0]
    result.totals = compute(lines, country=country, region=region, currency=currency, method_code=result.chosen,
                            voucher=voucher)
    return result
