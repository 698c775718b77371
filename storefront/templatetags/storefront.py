import hashlib

from django import template

from orders.addresses import address_lines as _address_lines
from storefront.cart import LOW_STOCK
from storefront.cart import stock_label as _stock_label

register = template.Library()


@register.filter
def stock_label(available):
    """"In stock", "Only 3 left" or "Sold out"."""
    return _stock_label(available)


@register.filter
def stock_level(available):
    return "out" if available <= 0 else "low" if available <= LOW_STOCK else "in"


@register.filter
def hue(sku):
    """A stable colour per product for its picture tile (the demo catalog has no photos)."""
    return int(hashlib.sha1(sku.encode()).hexdigest()[:4], 16) % 360


@register.filter
def initials(name):
    words = [w for w in name.replace(",", " ").split() if w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper()


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def address_lines(address):
    return _address_lines(address or {})


@register.filter
def described(field):
    """The field's widget, tied to its error message (and its "Optional" hint) for screen readers."""
    described_by = []
    attrs = {}
    if not field.field.required:
        described_by.append(f"{field.id_for_label}-hint")
    if field.errors:
        described_by.append(f"{field.id_for_label}-error")
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)
