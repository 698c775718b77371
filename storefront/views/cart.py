"""The cart pages: every change is a POST checked against the database (storefront.cart);
a refused change is shown next to the field that caused it and leaves the rest alone."""

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from catalog.models import Product
from orders.models import Order
from storefront.cart import Cart, CartError, parse_quantity, subtotal
from storefront.order_status import LABELS
from storefront.views.catalog import product_context, product_for
from storefront.responses import SeeOther, back_to
from storefront.views.checkout import LAST_ORDER


def cart_page(request, errors=None, status=200):
    lines = Cart(request.session).lines()
    return render(request, "storefront/cart.html", {
        "lines": lines, "subtotal": subtotal(lines), "errors": errors or {},
        "currency": next((line.product.currency for line in lines if line.product), "usd"),
        "can_checkout": bool(lines) and not any(line.problem for line in lines),
        "last_order": None if lines else _last_order(request.session),
    }, status=status)


def _last_order(session):
    """The order this session placed last, with its status in the shopper's words, or None."""
    order = Order.objects.filter(pk=session[LAST_ORDER]).first() if session.get(LAST_ORDER) else None
    return {"order": order, "status_label": LABELS[order.status]} if order else None


@require_POST
def cart_add(request):
    sku, raw = request.POST.get("sku", ""), request.POST.get("quantity", "1")
    try:
        quantity = parse_quantity(raw)
        Cart(request.session).add(sku, quantity)
    except CartError as exc:
        product = product_for(sku)
        if request.POST.get("from") == "product" and product is not None:
            # Shown next to the product page's quantity field, with what was typed.
            return render(request, "storefront/product.html",
                          {**product_context(product), "error": str(exc), "quantity": raw}, status=400)
        messages.error(request, str(exc))
        return SeeOther(back_to(request, reverse("storefront:catalog")))
    name = Product.objects.values_list("name", flat=True).get(sku=sku)
    messages.success(request, f"Added {quantity} × {name} to your cart.")
    return SeeOther(back_to(request, reverse("storefront:cart")))


@require_POST
def cart_update(request):
    sku = request.POST.get("sku", "")
    try:
        Cart(request.session).update(sku, parse_quantity(request.POST.get("quantity")))
    except CartError as exc:
        return cart_page(request, errors={sku: str(exc)}, status=400)
    messages.success(request, "Your cart was updated.")
    return SeeOther(reverse("storefront:cart"))


@require_POST
def cart_remove(request):
    Cart(request.session).remove(request.POST.get("sku", ""))
    messages.success(request, "The item was removed from your cart.")
    return SeeOther(reverse("storefront:cart"))


def cart(request):
    return cart_page(request)

