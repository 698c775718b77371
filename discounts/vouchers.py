"""Discount codes: what one takes off a cart, and redeeming it exactly once per use.

Redeeming happens in the checkout's transaction, after the stock is taken (so the lock order
is always stock rows, then the voucher's row):

1. the voucher's row is locked (SELECT … FOR UPDATE): concurrent checkouts with one code take
   turns, each seeing the uses the others committed;
2. its rules are checked (active, within its dates, its minimum, its products, the uses left in
   all and for this e-mail address);
3. `uses` goes up with a conditional UPDATE (… WHERE uses < usage_limit), and a Redemption row
   names the order: a use is counted exactly once, and 50 checkouts racing for a voucher of
   10 uses make exactly 10 discounted orders.

A use is given back (`give_back`) when its order ends without a charge, once (the Redemption's
`returned_at` is set conditionally).

What a voucher takes off (`allocate`): percent off the eligible lines (rounded half up to the
currency's smallest amount), or a fixed amount (never more than the eligible lines), shared out
over the eligible lines in proportion to their amounts (largest remainder, so the shares add up
exactly); free shipping takes nothing off the lines (checkout waives the shipping instead).
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone

from catalog.money import currency as currency_spec
from catalog.money import format_money
from discounts.models import Redemption, Voucher

MAX_CODE = 64
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\Z"


class VoucherRefused(Exception):
    """The code cannot be used for this cart; the message says why, for the shopper."""


def normalize(code):
    return (code or "").strip().upper()


def find(code, *, lock=False):
    vouchers = Voucher.objects.annotate(upper=Upper("code")).filter(upper=normalize(code))
    voucher = (vouchers.select_for_update(of=("self",)) if lock else vouchers).first()
    if voucher is None or not voucher.active:
        raise VoucherRefused(f"{normalize(code) or 'That'} is not a code we know. Check it and try again.")
    return voucher


def eligible(voucher, lines):
    """The lines (dicts with sku, product_id, amount) the voucher applies to."""
    only = set(voucher.products.values_list("pk", flat=True))
    return [line for line in lines if not only or line["product_id"] in only]


def check(voucher, *, lines, email, currency, now=None, email_uses=None):
    """Raise VoucherRefused unless the voucher may take something off this cart for this address."""
    now = now or timezone.now()
    code = voucher.code
    if voucher.starts_at and voucher.starts_at > now:
        raise VoucherRefused(f"{code} is not valid yet.")
    if voucher.ends_at and voucher.ends_at <= now:
        raise VoucherRefused(f"{code} has expired.")
    if voucher.usage_limit is not None and voucher.uses >= voucher.usage_limit:
        raise VoucherRefused(f"{code} has been used up.")
    if voucher.per_email_limit is not None:
        used = email_uses if email_uses is not None else uses_by(voucher, email)
        if used >= voucher.per_email_limit:
            raise VoucherRefused(f"{code} has already been used with this e-mail address.")
    if voucher.kind == Voucher.Kind.FIXED and voucher.currency != currency:
        raise VoucherRefused(f"{code} is not valid for payments in {currency.upper()}.")
    applies_to = eligible(voucher, lines)
    if not applies_to:
        raise VoucherRefused(f"{code} does not apply to the items in your cart.")
    if sum(line["amount"] for line in applies_to) < voucher.min_subtotal:
        raise VoucherRefused(f"{code} applies to orders of at least {format_money(voucher.min_subtotal, currency)}.")


def uses_by(voucher, email):
    return Redemption.objects.filter(voucher=voucher, email=(email or "").strip().lower(),
                                     returned_at__isnull=True).count()


def preview(code, *, lines, email, currency):
    """The voucher if it would apply now (the cart page and the checkout's totals): not a
    promise, since uses can run out before the order is placed."""
    voucher = find(code)
    check(voucher, lines=lines, email=email or "", currency=currency)
    return voucher


def redeem(code, *, lines, email, currency):
    """In the checkout's transaction: lock the voucher, check it, count the use. Returns the
    voucher; record() then names the order. Raises VoucherRefused (the transaction rolls back)."""
    voucher = find(code, lock=True)
    check(voucher, lines=lines, email=email, currency=currency)
    counted = Voucher.objects.filter(Q(usage_limit__isnull=True) | Q(uses__lt=F("usage_limit")),
                                     pk=voucher.pk).update(uses=F("uses") + 1)
    if not counted:  # unreachable while the row is locked; the condition holds the limit regardless
        raise VoucherRefused(f"{voucher.code} has been used up.")
    return voucher


def record(voucher, *, order_id, email, amount, currency):
    Redemption.objects.create(voucher=voucher, order_id=order_id, email=email.strip().lower(), amount=amount,
                              currency=currency)


def give_back(order_id):
    """The order ended without a charge: its use of a voucher counts no more (once). True if
    a use was given back now. Runs in the caller's transaction."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE discounts_redemption SET returned_at = %s WHERE order_id = %s AND returned_at IS NULL "
                       "RETURNING voucher_id", [timezone.now(), order_id])
        returned = [row[0] for row in cursor.fetchall()]
    if returned:
        Voucher.objects.filter(pk__in=returned, uses__gt=0).update(uses=F("uses") - 1)
    return bool(returned)


def allocate(voucher, lines, currency):
    """{sku: the part of the discount taken off that line}, summing to the discount."""
    if voucher is None or voucher.kind == Voucher.Kind.FREE_SHIPPING:
        return {}
    applies_to = eligible(voucher, lines)
    base = sum(line["amount"] for line in applies_to)
    step = currency_spec(currency).step
    if voucher.kind == Voucher.Kind.PERCENT:
        total = int((Decimal(base) * voucher.percent / 100 / step).quantize(Decimal(1), ROUND_HALF_UP)) * step
    else:
        total = voucher.amount
    total = min(total, base)
    if not total:
        return {}
    # Largest remainder, in units of the currency's step: the shares add up to the total exactly.
    units = total // step
    exact = [(Decimal(line["amount"]) * units / base, line["sku"]) for line in applies_to]
    shares = {sku: int(part) for part, sku in exact}
    left = units - sum(shares.values())
    for _, sku in sorted(exact, key=lambda item: (item[0] - int(item[0]), item[1]), reverse=True)[:left]:
        shares[sku] += 1
    return {sku: share * step for sku, share in shares.items() if share}
