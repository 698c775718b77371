import hashlib
import json

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from catalog.images import srcsets
from catalog.money import currency as money_currency

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
    """A stable colour per product for its placeholder tile (a product without pictures)."""
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
    if not field.field.required and not getattr(field.form, "quiet", False):
        described_by.append(f"{field.id_for_label}-hint")
    if field.errors:
        described_by.append(f"{field.id_for_label}-error")
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)


@register.filter
def lt(value, other):
    return value < other


@register.simple_tag(takes_context=True)
def absolute(context, path):
    """The absolute URL of a path of this site, as the request reached it (canonical links,
    structured data)."""
    return context["request"].build_absolute_uri(path)


@register.inclusion_tag("storefront/_picture.html")
def picture(image, owner=None, sizes="100vw", eager=False, priority=False, css="", decorative=False):
    """A ProductImage as <picture>: its WebP thumbnails, then JPEG ones, at every width, for the
    browser to choose from with `sizes`. Lazy unless `eager` (what is on screen at first).
    `decorative`: inside a link that already names the product (a card, a cart line), so its
    alt text is empty rather than the name said twice. Without a picture (or its thumbnails):
    a coloured tile with the owner's initials."""
    image = image or None  # `|first` of no pictures is ""
    sets = srcsets(image.renditions) if image is not None else None
    key = getattr(owner, "sku", None) or getattr(owner, "slug", "") or ""
    return {"sets": sets, "alt": image.alt_text if image is not None and not decorative else "", "sizes": sizes,
            "eager": eager,
            "priority": priority, "css": css, "size": (image.width or 960) if image is not None else 0,
            "hue": hue(key), "initials": initials(getattr(owner, "name", ""))}


@register.simple_tag(takes_context=True)
def product_ld(context, product, pictures, available):
    """The product as schema.org structured data (JSON-LD Product with an Offer), for search engines."""
    request = context["request"]
    url = request.build_absolute_uri(reverse("storefront:product", args=[product.sku]))
    images = [request.build_absolute_uri(sets["largest"]) for sets in (srcsets(p.renditions) for p in pictures)
              if sets]
    data = {
        "@context": "https://schema.org", "@type": "Product", "name": product.name, "sku": product.sku,
        "description": product.description or product.name, "url": url,
        "brand": {"@type": "Brand", "name": "Harbor Supply Co."},
        "offers": {
            "@type": "Offer", "url": url, "priceCurrency": product.currency.upper(),
            "price": str(money_currency(product.currency).to_major(product.unit_price)),
            "availability": "https://schema.org/" + ("InStock" if available > 0 else "OutOfStock"),
            "itemCondition": "https://schema.org/NewCondition",
        },
    }
    if images:
        data["image"] = images
    return json_ld(data)


def json_ld(data):
    # As Django's json_script escapes: nothing in the data can close the <script> element.
    text = json.dumps(data, ensure_ascii=False).translate({ord(">"): "\\u003E", ord("<"): "\\u003C",
                                                           ord("&"): "\\u0026"})
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(text))
