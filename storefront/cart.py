"""The shopper's cart: `{sku: quantity}` in the session, nothing else.

Prices, names and stock always come from the database when the cart is shown or checked
out, so a cart can never carry a price; each change is checked against the product
(active?) and its stock (the units in all warehouses: no address is known yet), and so is the
whole cart again at checkout, where the warehouses that ship to the address count.
"""

import re
from dataclasses import dataclass

from django.db.models import Prefetch

from catalog.availability import units, with_available
from catalog.models import Product, ProductImage

SESSION_KEY = "cart"
MAX_LINES = 50  # the checkout API's limits (orders.serializers)
MAX_QUANTITY = 100
LOW_STOCK = 5  # "Only N left" from here down
# Each line's product with its pictures, in order (the cart shows the first).
PICTURES = Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))


class CartError(Exception):
    """A change the cart refuses; the message tells the shopper why."""


def parse_quantity(raw):
    """A positive whole number from a form field, or CartError saying what is wrong."""
    text = str(raw if raw is not None else "").strip()
    # ASCII digits only: str.isdigit() also takes "²" and "٣", which int() then refuses.
    if not re.fullmatch(r"-?[0-9]+", text):
        raise CartError("Enter a whole number.")
    quantity = int(text)
    if quantity < 1:
        raise CartError("Enter a quantity of at least 1 (or remove the item).")
    return quantity


def stock_label(available):
    if available <= 0:
        return "Sold out"
    if available <= LOW_STOCK:
        return f"Only {available} left"
    return "In stock"


@dataclass
class Line:
    sku: str
    quantity: int
    product: Product | None
    problem: str = ""  # why this line cannot be bought as it is ("" if it can)

    @property
    def available(self):
        return units(self.product) if self.product else 0

    @property
    def line_total(self):
        return self.product.unit_price * self.quantity if self.product else 0


class Cart:
    def __init__(self, session):
        self.session = session
        raw = session.get(SESSION_KEY)
        # Whatever is in the session, keep only well-formed entries.
        self.items = {sku: qty for sku, qty in (raw.items() if isinstance(raw, dict) else ())
                      if isinstance(sku, str) and isinstance(qty, int) and qty > 0}

    def __len__(self):
        return sum(self.items.values())

    def add(self, sku, quantity):
        """Add units of a product; refused (CartError) for an unknown or inactive product, or
        beyond its stock."""
        product = _buyable(sku)
        if sku not in self.items and len(self.items) >= MAX_LINES:
            raise CartError(f"A cart holds at most {MAX_LINES} different products.")
        other = Product.objects.filter(sku__in=self.items).exclude(currency=product.currency).first()
        if other is not None:  # one order is paid in one currency
            raise CartError(f"{product.name} is priced in {product.currency.upper()}, "
                            f"your cart in {other.currency.upper()}: check out first.")
        self._set(product, self.items.get(sku, 0) + quantity)

    def update(self, sku, quantity):
        if sku not in self.items:
            raise CartError("That item is not in your cart.")
        self._set(_buyable(sku), quantity)

    def remove(self, sku):
        self.items.pop(sku, None)
        self._save()

    def clear(self):
        self.items = {}
        self._save()

    def lines(self):
        """The cart as Lines, read from the database now, each with its problem if any."""
        products = (with_available(Product.objects.filter(sku__in=self.items)).prefetch_related(PICTURES)
                    .in_bulk(field_name="sku")
                    if self.items else {})
        lines = []
        for sku, quantity in self.items.items():
            line = Line(sku, quantity, products.get(sku))
            if line.product is None or not line.product.active:
                line.problem = "No longer available"
            elif line.available <= 0:
                line.problem = "Sold out"
            elif quantity > line.available:
                line.problem = f"Only {line.available} left: lower the quantity"
            lines.append(line)
        return lines

    def _set(self, product, quantity):
        available = units(product)
        if available <= 0:
            raise CartError(f"{product.name} is sold out.")
        if quantity > available:
            raise CartError(f"Only {available} left of {product.name}.")
        if quantity > MAX_QUANTITY:
            raise CartError(f"At most {MAX_QUANTITY} of one item per order.")
        self.items[product.sku] = quantity
        self._save()

    def _save(self):
        self.session[SESSION_KEY] = dict(self.items)


def subtotal(lines):
    """Minor units of the lines that can be bought."""
    return sum(line.line_total for line in lines if not line.problem)


def _buyable(sku):
    product = with_available(Product.objects.filter(sku=sku, active=True)).first()
    if product is None:
        raise CartError("That product is no longer available.")
    return product
