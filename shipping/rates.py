"""What each shipping method costs for a cart: the one place shipping is priced.

`quotes(country, ...)` lists the methods that serve a country for a cart (its merchandise
after discounts, its weight, its currency), cheapest first; `quote(code, ...)` prices the one a
shopper chose, or says why it cannot ship there. The zones and methods come from the cache
(catalog.cache, scope "pricing": moved on by any change to a zone, method or bracket), so a
checkout reads them without a query once they are warm.
"""

from dataclasses import dataclass

from catalog import cache

SCOPE = cache.PRICING


class MethodUnavailable(Exception):
    """The chosen method does not deliver this cart there; the message says why."""


@dataclass(frozen=True)
class Quote:
    code: str
    name: str
    price: int  # minor units
    currency: str
    min_days: int
    max_days: int
    position: int = 0

    @property
    def estimate(self):
        return f"{self.min_days}–{self.max_days} business days" if self.min_days != self.max_days else (
            f"{self.max_days} business day{'s' if self.max_days != 1 else ''}")


# A shop with no shipping configured at all ships free, as Harbor did before shipping was
# priced: an upgrade changes nothing until ops add a zone. Once any method exists, a country
# that no zone holds is not shipped to.
FREE_STANDARD = {"code": "standard", "name": "Standard shipping", "price": 0, "currency": "", "free_over": None,
                 "min_days": 3, "max_days": 7, "position": 0, "brackets": []}


def _methods(country):
    """Every active method of every zone that holds `country`, as plain data (cached)."""
    def build():
        from shipping.models import ShippingMethod

        rows = (ShippingMethod.objects.filter(active=True, zone__countries__contains=[country])
                .prefetch_related("brackets"))
        found = [{"code": m.code, "name": m.name, "price": m.price, "currency": m.currency,
                  "free_over": m.free_over, "min_days": m.min_days, "max_days": m.max_days, "position": m.position,
                  "brackets": [[b.max_weight_grams, b.price] for b in m.brackets.all()]} for m in rows]
        if not found and not ShippingMethod.objects.exists():
            found = [FREE_STANDARD]
        return found

    return cache.cached(f"shipping:{country}", build, scope=SCOPE)


def _price(method, merchandise, weight, currency):
    """The method's price for the cart, or the reason it is not offered."""
    if method["currency"] and method["currency"] != currency:
        return None, f"{method['name']} is priced in {method['currency'].upper()}, the cart in {currency.upper()}"
    price = method["price"]
    if method["brackets"]:
        fitting = [bracket_price for max_weight, bracket_price in method["brackets"] if weight <= max_weight]
        if not fitting:
            return None, f"{method['name']} takes parcels up to {method['brackets'][-1][0] / 1000:g} kg"
        price = fitting[0]
    if method["free_over"] is not None and merchandise >= method["free_over"]:
        price = 0
    return price, ""


def quotes(country, *, merchandise, weight, currency):
    """The methods serving `country` for this cart, cheapest first (then the shop's order)."""
    offered = []
    for method in _methods((country or "").upper()):
        price, _ = _price(method, merchandise, weight, currency)
        if price is not None:
            offered.append(Quote(method["code"], method["name"], price, currency, method["min_days"],
                                 method["max_days"], method["position"]))
    return sorted(offered, key=lambda q: (q.price, q.position, q.code))


def quote(code, country, *, merchandise, weight, currency):
    """The chosen method's Quote (None: the cheapest serving the country); MethodUnavailable
    if it does not deliver this cart there."""
    if code is None:
        offered = quotes(country, merchandise=merchandise, weight=weight, currency=currency)
        if not offered:
            raise MethodUnavailable(f"No shipping method delivers to {country} for this cart.")
        return offered[0]
    for method in _methods((country or "").upper()):
        if method["code"] == code:
            price, why = _price(method, merchandise, weight, currency)
            if price is None:
                raise MethodUnavailable(f"{why}: choose another shipping method.")
            return Quote(code, method["name"], price, currency, method["min_days"], method["max_days"],
                         method["position"])
    raise MethodUnavailable(f"Shipping method {code!r} does not deliver to {country}: choose one that does "
                            f"(GET /api/shipping-methods/?country={country}).")
