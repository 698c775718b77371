"""The order status page: anyone holding the order's (unguessable) id may see it."""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from orders import authentication
from orders.models import OrderStatus
from orders.throttles import ShopperReturnThrottle, throttled
from orders.views import ORDER_QUERYSET
from storefront.cart import Cart, CartError
from storefront.order_status import present
from storefront.responses import SeeOther, not_found


def _context(order_id):
    order = ORDER_QUERYSET.filter(pk=order_id).first()
    if order is None:
        return None
    return {**present(order), "stripe_js_url": settings.STRIPE_JS_URL, "stripe_key": settings.STRIPE_PUBLISHABLE_KEY}


def order_page(request, order_id):
    context = _context(order_id)
    return render(request, "storefront/order.html", context) if context else not_found(request)


def order_live(request, order_id):
    """The live part of the page, polled by htmx until the order is final."""
    if not request.htmx:  # opened directly: the whole page
        return SeeOther(reverse("storefront:order", args=[order_id]))
    context = _context(order_id)
    return render(request, "storefront/_order_live.html", context) if context else not_found(request)


def authenticate_page(request, order_id):
    """3-D Secure: Stripe.js runs the bank's check for the order's PaymentIntent here."""
    context = _context(order_id)
    if context is None:
        return not_found(request)
    if context["status"] != OrderStatus.REQUIRES_ACTION:
        return SeeOther(reverse("storefront:order", args=[order_id]))
    return render(request, "storefront/authenticate.html", context)


@require_POST
def order_authenticated(request, order_id):
    """The bank's check is over: have Harbor look at Stripe again (Stripe decides, not the page).
    Limited per client, and idempotent per order (orders.authentication.shopper_returned)."""
    if (wait := throttled(request, [ShopperReturnThrottle()])) is not None:
        messages.warning(request, f"Too many attempts. Please wait {wait} seconds; your order page updates by itself.")
        response = order_page(request, order_id)
        if response.status_code == 200:
            response.status_code, response["Retry-After"] = 429, str(wait)
        return response
    if authentication.shopper_returned(order_id):
        messages.info(request, "Thank you. We are checking the payment with your bank.")
    return SeeOther(reverse("storefront:order", args=[order_id]))


@require_POST
def order_back_to_cart(request, order_id):
    """After a failed payment: the same items back in the cart, to try another card."""
    context = _context(order_id)
    if context is None:
        return not_found(request)
    order = context["order"]
    if order.status in (OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELED):
        cart = Cart(request.session)
        for line in order.lines.all():
            try:
                cart.add(line.sku, line.quantity)
            except CartError as exc:
                messages.warning(request, f"{line.sku}: {exc}")
    return SeeOther(reverse("storefront:cart"))
