"""Tax, behind one interface: `calculator().calculate(...)` gives each line's tax and the
shipping's, and checkout never asks how. The default, RateTable, reads TaxRate rows (the
admin's rate table); Stripe Tax or another provider would be another class named by the
TAX_CALCULATOR setting, with the same `calculate`.

The rounding rule (RateTable), in the order's currency:

- each line is taxed on its own amount after its share of any discount, then shipping on its
  own; the order's tax is the sum of those rounded amounts;
- prices include tax (PRICES_INCLUDE_TAX, VAT style): a line's tax is the part of its amount
  that is tax, amount × rate / (100 + rate); prices exclude tax (US sales-tax style): tax is
  amount × rate / 100, added on top;
- each is rounded half up to the smallest amount Stripe takes in that currency (a cent; ten
  fils for BHD; a whole króna for ISK, see catalog.money);
- shipping is taxed at the destination's standard rate.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.utils.module_loading import import_string

from catalog import cache
from catalog.models import TaxClass
from catalog.money import currency as currency_spec

SCOPE = cache.PRICING


@dataclass(frozen=True)
class TaxableLine:
    key: str  # the SKU
    amount: int  # minor units, after the line's share of any discount
    tax_class: str


@dataclass
class TaxResult:
    lines: dict = field(default_factory=dict)  # key -> (tax in minor units, rate in percent)
    shipping: int = 0
    shipping_rate: Decimal = Decimal(0)
    label: str = "Tax"  # what the destination calls it: "VAT", "Sales tax"

    @property
    def total(self):
        return sum(tax for tax, _ in self.lines.values()) + self.shipping


class RateTable:
    """Rates from the admin's table (tax.models.TaxRate), cached with the shipping methods."""

    def rates(self, country, region):
        """{tax class: (rate, name)} for the address: the region's rows over the country's."""
        def build():
            from tax.models import TaxRate

            return [[r.region, r.tax_class, str(r.rate), r.name] for r in TaxRate.objects.filter(country=country)]

        rows = cache.cached(f"tax:{country}", build, scope=SCOPE)
        found = {}
        for row_region, tax_class, rate, name in sorted(rows, key=lambda r: r[0] != ""):  # country first
            if row_region == "" or row_region.casefold() == (region or "").strip().casefold():
                found[tax_class] = (Decimal(rate), name)
        return found

    def calculate(self, *, lines, shipping, country, region, currency, prices_include_tax):
        rates = self.rates((country or "").upper(), region)
        step = currency_spec(currency).step
        result = TaxResult(label=rates.get(TaxClass.STANDARD, (0, "Tax"))[1])
        for line in lines:
            rate = rates.get(line.tax_class, (Decimal(0), ""))[0]
            result.lines[line.key] = (tax_on(line.amount, rate, prices_include_tax, step), rate)
        result.shipping_rate = rates.get(TaxClass.STANDARD, (Decimal(0), ""))[0]
        result.shipping = tax_on(shipping, result.shipping_rate, prices_include_tax, step)
        return result


def tax_on(amount, rate, included, step=1):
    """The tax in (or on) `amount` minor units at `rate` percent, rounded half up to `step`."""
    if not amount or not rate:
        return 0
    exact = Decimal(amount) * rate / ((100 + rate) if included else 100)
    return int((exact / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * step


def calculator():
    return import_string(settings.TAX_CALCULATOR)()
