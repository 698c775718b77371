"""Money for people: integer minor units and a lowercase ISO code → "$18.00", "€12.50".

Prices are stored as integer minor units (cents); this is the one place that turns them
into text, for the storefront, the e-mails and the admin alike.
"""

SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}
ZERO_DECIMAL = {"jpy", "krw", "vnd", "clp", "isk", "huf", "twd", "ugx"}  # Stripe's zero-decimal currencies


def format_money(minor_units, currency):
    currency = (currency or "").lower()
    if currency in ZERO_DECIMAL:
        amount = f"{minor_units:,}"
    else:
        amount = f"{minor_units // 100:,}.{minor_units % 100:02d}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{amount}" if symbol else f"{amount} {currency.upper()}"
