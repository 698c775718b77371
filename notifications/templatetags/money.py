from django import template

register = template.Library()


@register.filter
def money(minor_units, currency):
    """1234, "usd" → "12.34 USD" (two-decimal currencies, which is all the catalog sells)."""
    return f"{minor_units // 100}.{minor_units % 100:02d} {currency.upper()}"


@register.filter
def times(a, b):
    return a * b
