""""Find my order": a shopper who lost the link to an order types the e-mail address it was
placed with and its reference, and Harbor e-mails the link (a signed one: orders/links.py).

The page always answers the same way, whether or not such an order exists: the e-mail is
sent (or not) by a worker, so neither the words nor the time taken tell anything. It is
limited per client (FIND_ORDER_RATE_LIMIT) and per e-mail address (FIND_ORDER_EMAIL_LIMIT),
so it can neither be used to guess references nor to fill someone's inbox.
"""

import hashlib
import uuid

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from harbor import enqueue, ratelimit
from harbor.clientip import client_key
from orders import links
from storefront.forms import FindOrderForm
from storefront.responses import SeeOther, not_found


def _limits(request, email):
    """[(key, limit, period)] that this request counts against."""
    limits = []
    for setting, who in (("FIND_ORDER_RATE_LIMIT", f"client:{client_key(request)}"),
                         ("FIND_ORDER_EMAIL_LIMIT",
                          "email:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32])):
        rate = ratelimit.parse_rate(getattr(settings, setting))
        if rate is not None:
            limits.append((f"find_order:{who}", *rate))
    return limits


@require_http_methods(["GET", "POST"])
def find_order(request):
    if request.method == "GET":
        return render(request, "storefront/find_order.html", {"form": FindOrderForm()})
    form = FindOrderForm(request.POST)
    if not form.is_valid():
        return render(request, "storefront/find_order.html", {"form": form}, status=400)
    email, reference = form.cleaned_data["email"], form.cleaned_data["reference"]
    limits = _limits(request, email)
    waits = [wait for key, limit, period in limits if (wait := ratelimit.wait(key, limit, period)) is not None]
    if waits:
        response = render(request, "storefront/find_order.html", {"form": form, "wait_minutes": -(-max(waits) // 60)},
                          status=429)
        response["Retry-After"] = str(max(waits))
        return response
    for key, _, period in limits:
        ratelimit.record(key, uuid.uuid4().hex, period)  # each request counts
    # Always sent, found or not: the worker looks the order up (notifications.emails.send_order_links).
    enqueue.send_or_log("notifications.tasks.send_order_links", email, reference=reference)
    return render(request, "storefront/find_order.html", {"form": FindOrderForm(), "sent_to": email,
                                                          "reference": reference})


def order_link(request, token):
    """A link from an e-mail: the signed reference opens the order's page."""
    order = links.order_for(token)
    if order is None:
        return not_found(request)
    return SeeOther(f"/orders/{order.pk}/")
