"""Checkout in the browser, through the same service as the API (orders.checkout).

GET renders the form with a fresh checkout token: the order's Idempotency-Key, so a double
click, a reload or a back-and-resubmit of this page places one order. The page's script
gets a SetupIntent from `payment_setup`, has Stripe.js confirm it with the card, and posts
the resulting PaymentMethod id with the address. The cart is read from the database again
here; a line that went out of stock meanwhile sends the shopper back to the cart, with
nothing reserved and nothing charged.
"""

import logging
import uuid

import stripe
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from inventory.stock import InsufficientStock
from harbor.clientip import client_id
from orders import checkout
from orders.addresses import COUNTRY_NAMES
from orders.totals import LineTotal, breakdown_of, price_cart
from orders.serializers import CheckoutSerializer
from orders.throttles import CardSetupRateThrottle, CheckoutRateThrottle, FailedPaymentsThrottle, throttled
from payments import gateway
from accounts import customers
from storefront import metrics
from storefront.cart import Cart, subtotal
from storefront.forms import CheckoutForm
from storefront.responses import SeeOther

logger = logging.getLogger(__name__)
LAST_ORDER = "last_order"  # session key: the order this session placed last (the empty cart links it)


def checkout_page(request):
    token = request.POST.get("checkout_token", "")
    posted = request.method == "POST"
    if posted and (placed := checkout.order_for_key(_key(token))):
        metrics.count("replayed")
        return SeeOther(reverse("storefront:order", args=[placed.pk]))  # this page placed it already
    cart = Cart(request.session)
    lines = cart.lines()
    if not lines:  # e.g. Back after paying: the cart page says it is empty, and links the last order
        if posted:
            metrics.count("empty_cart")
        return SeeOther(reverse("storefront:cart"))
    if any(line.problem for line in lines):
        if posted:
            metrics.count("cart_changed")
        messages.error(request, "Some items in your cart cannot be bought as they are. Nothing was charged.")
        return SeeOther(reverse("storefront:cart"))
    status = 200
    saved = customers.addresses_of(request.user) if request.user.is_authenticated else []
    if posted:
        form = CheckoutForm(request.POST)
        status = 400
        if (wait := throttled(request, [CheckoutRateThrottle(), FailedPaymentsThrottle()])) is not None:
            form.add_error(None, f"Too many attempts. Please wait {wait} seconds and try again.")
            status = 429
            metrics.count("throttled")
        elif form.is_valid():
            placed, outcome = _place(request, form, cart, lines)
            metrics.count(outcome)
            if placed is not None:
                return placed
            if outcome == "unpaid_limit":
                status, wait = 429, checkout.TooManyUnpaid.retry_after
        else:
            metrics.count("invalid")
    else:
        form = CheckoutForm(initial={"checkout_token": uuid.uuid4().hex, **_prefill(request, saved)})
    response = render(request, "storefront/checkout.html", {
        "saved_addresses": saved, "saved_address_data": [address.as_dict() for address in saved],
        "form": form, "lines": lines, "subtotal": subtotal(lines), "currency": lines[0].product.currency,
        "stripe_js_url": settings.STRIPE_JS_URL, "stripe_key": settings.STRIPE_PUBLISHABLE_KEY,
        "test_mode": settings.STRIPE_TEST_MODE, **pricing(lines, form.data if posted else form.initial),
    }, status=status)
    if status == 429:
        response["Retry-After"] = str(wait)
    return response


def _place(request, form, cart, lines):
    """Place the order: (a redirect on success or to the cart, or None with form errors added; the outcome)."""
    body = form.body(lines)
    request_body = CheckoutSerializer(data=body)
    if not request_body.is_valid():
        errors = request_body.errors
        if "lines" in errors:
            messages.error(request, "Your cart changed: please check it. Nothing was charged.")
            return SeeOther(reverse("storefront:cart")), "cart_changed"
        for field, problems in errors.get("shipping_address", {}).items():
            form.add_error(field if field in form.fields else None, problems)
        for field in ("email", "payment_method", "shipping_method", "discount_code"):
            if field in errors:
                form.add_error(field, errors[field])
        return None, "invalid"
    key = _key(form.cleaned_data["checkout_token"])
    try:
        order, created = checkout.place_order(**request_body.validated_data, idempotency_key=key,
                                              request_hash=checkout.fingerprint(body), client=client_id(request),
                                              customer=request.user if request.user.is_authenticated else None)
    except InsufficientStock as exc:
        messages.error(request, f"Sorry, not enough left of {', '.join(exc.skus)} any more: your cart shows "
                                "what can still be bought. Nothing was charged.")
        return SeeOther(reverse("storefront:cart")), "out_of_stock"
    except checkout.UnknownProducts:
        messages.error(request, "Your cart changed: please check it. Nothing was charged.")
        return SeeOther(reverse("storefront:cart")), "cart_changed"
    except checkout.InvalidShipping as exc:
        form.add_error("shipping_method", str(exc))
        return None, "invalid"
    except checkout.InvalidDiscount as exc:
        form.add_error("discount_code", str(exc))
        return None, "invalid"
    except checkout.IdempotencyKeyReused:  # a second submit of this page with another card
        order, created = checkout.order_for_key(key), False
    except checkout.TooManyUnpaid:
        form.add_error(None, f"You have {settings.CHECKOUT_UNPAID_LIMIT} orders waiting for payment. Please complete "
                             "or cancel one of them (or wait a minute) before placing another.")
        return None, "unpaid_limit"
    cart.clear()
    request.session[LAST_ORDER] = str(order.pk)  # the empty cart links it (Back after paying)
    if request.user.is_authenticated:  # the next checkout starts with this address
        customers.remember_address(request.user, request_body.validated_data["shipping_address"])
    return SeeOther(reverse("storefront:order", args=[order.pk])), "placed" if created else "replayed"


def _prefill(request, saved):
    """A signed-in shopper's checkout starts with their e-mail and the address they used last."""
    if not request.user.is_authenticated:
        return {}
    return {"email": request.user.email, **(saved[0].as_dict() if saved else {})}


def pricing(lines, data):
    """The shipping methods for the chosen country and the totals, for the page (orders.totals:
    the same computation checkout makes, here as a preview: nothing is redeemed or written)."""
    buyable = [line for line in lines if not line.problem]
    country = data.get("country", "") if data.get("country", "") in COUNTRY_NAMES else ""
    priced = price_cart(
        [LineTotal(line.sku, line.product.pk, line.quantity, line.product.unit_price, line.product.weight_grams,
                   line.product.tax_class) for line in buyable],
        country=country, region=data.get("region", ""), currency=buyable[0].product.currency if buyable else "usd",
        method_code=data.get("shipping_method") or None, discount_code=(data.get("discount_code") or "").strip(),
        email=data.get("email", ""))
    return {"quotes": priced.quotes, "chosen": priced.chosen, "priced": priced.totals,
            "rows": breakdown_of(priced.totals) if priced.totals else [], "pricing_errors": priced.errors,
            "country": country, "country_name": COUNTRY_NAMES.get(country, "")}


@require_GET
def checkout_pricing(request):
    """The checkout page's shipping methods and totals, for the country, method and code it
    has now (htmx asks on every change of them: out-of-band fragments, no reload)."""
    cart = Cart(request.session)
    lines = cart.lines()
    if not lines:
        return HttpResponse(status=204)
    # The subtotal too: with every line sold out since the page was drawn, nothing is priced and
    # the summary falls back to it (without it, that answer was a 500).
    return render(request, "storefront/_checkout_pricing.html", {
        "lines": lines, "subtotal": subtotal(lines), "currency": lines[0].product.currency, "oob": True,
        **pricing(lines, request.GET)})


def _key(token):
    return f"storefront-{token}"


@require_POST
def payment_setup(request):
    """A SetupIntent's client secret for Stripe.js (CSRF-protected POST)."""
    if not len(Cart(request.session)):
        return JsonResponse({"error": "Your cart is empty."}, status=400)
    if (wait := throttled(request, [CardSetupRateThrottle()])) is not None:
        return JsonResponse({"error": f"Too many attempts. Please wait {wait} seconds and try again."}, status=429,
                            headers={"Retry-After": str(wait)})
    try:
        with gateway.deadline(5):  # a shopper is waiting: fail fast, they can try again
            intent = gateway.create_setup_intent()
    except stripe.StripeError as exc:
        logger.warning("checkout: could not create a SetupIntent: %s", exc)
        return JsonResponse({"error": "Card payments are unavailable right now. Please try again in a minute."},
                            status=503)
    return JsonResponse({"client_secret": intent.client_secret})
