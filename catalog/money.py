"""Money in one place: integer minor units as Stripe counts them, per currency.

Every amount Harbor stores or sends to Stripe is an integer in the currency's minor unit *as
Stripe defines it*, which is not always ISO 4217's (Stripe, "Supported currencies" →
"Zero-decimal currencies", "Three-decimal currencies" and "Special cases"):

- most currencies: two decimals, 1000 = 10.00;
- zero-decimal (jpy, krw, clp, vnd, …): 500 = ¥500;
- three-decimal (bhd, jod, kwd, omr, tnd): 5124 = 5.124 BHD, and Stripe takes only amounts
  whose last digit is 0 (round to the nearest ten);
- special cases: isk and ugx became zero-decimal, but Stripe still counts them in hundredths
  for backwards compatibility, and takes only multiples of 100 (500 = 5 kr.); huf and twd are
  two-decimal for charges (Stripe pays them out in whole units only, which is not ours).

This module turns minor units into text (`format_money`: the storefront, the e-mails, the
admin, the events) and text a person typed into minor units (`parse_money`: the admin's
refund form, `manage.py refund_order`); nothing else multiplies or divides by 100.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥"}
ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv",
                          "xaf", "xof", "xpf"})
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
WHOLE_HUNDREDTHS = frozenset({"isk", "ugx"})  # two decimals at Stripe, always .00


@dataclass(frozen=True)
class Currency:
    code: str
    exponent: int  # minor units per major unit = 10 ** exponent, as Stripe's API counts them
    step: int  # Stripe takes only amounts that are a multiple of this
    shown: int  # decimals shown to people

    def to_major(self, minor_units):
        return Decimal(minor_units).scaleb(-self.exponent)


def currency(code):
    code = (code or "").lower()
    if code in ZERO_DECIMAL:
        return Currency(code, 0, 1, 0)
    if code in THREE_DECIMAL:
        return Currency(code, 3, 10, 3)
    if code in WHOLE_HUNDREDTHS:
        return Currency(code, 2, 100, 0)
    return Currency(code, 2, 1, 2)


def format_money(minor_units, code):
    """1800, "usd" → "$18.00"; 500, "jpy" → "¥500"; 5120, "bhd" → "5.120 BHD"; 50000, "isk" → "500 ISK"."""
    spec = currency(code)
    major = spec.to_major(minor_units)
    amount = f"{major:,.{spec.shown}f}"
    symbol = SYMBOLS.get(spec.code)
    return f"{symbol}{amount}" if symbol else f"{amount} {spec.code.upper()}"


class MoneyError(ValueError):
    """Text that is not an amount of this currency; the message says why, for a person."""


def parse_money(text, code):
    """"5" or "5.00" in usd → 500; "500" in jpy → 500; "5.12" in bhd → 5120; "5" in isk → 500.
    Refuses (MoneyError) anything but a positive amount written in ASCII digits with at most the
    currency's decimals, and amounts Stripe would refuse (not a multiple of its step)."""
    spec = currency(code)
    text = str(text).strip().replace(",", "")
    if not text or not text.isascii() or not all(c.isdigit() or c == "." for c in text) or text.count(".") > 1:
        raise MoneyError(f"Enter an amount such as {format_money(spec.step * 10 ** spec.exponent, code)}, in digits.")
    try:
        major = Decimal(text)
    except InvalidOperation:
        raise MoneyError(f"Not an amount: {text!r}.") from None
    minor = major.scaleb(spec.exponent)
    if minor != minor.to_integral_value() or (minor % spec.step):
        decimals = spec.shown
        raise MoneyError(f"{spec.code.upper()} amounts have {decimals} decimal{'s' if decimals != 1 else ''}"
                         + (f" (a multiple of {format_money(spec.step, code)})" if spec.step > 1 and decimals else "")
                         + ".")
    if minor <= 0:
        raise MoneyError("The amount must be more than zero.")
    return int(minor)
