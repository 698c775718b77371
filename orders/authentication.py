"""3-D Secure: an order waits in `requires_action` until the shopper authenticates the
payment on the order's page (Stripe.js `confirmCardPayment`), or the window closes.

The page then tells Harbor (`shopper_returned`), which only asks fulfill_order to look at
Stripe again: what Stripe says (succeeded, or authentication failed) decides, never what
the browser claims. A `payment_intent.succeeded` webhook moves the order the same way, and
reconciliation cancels it (`expired`) once AUTHENTICATION_WINDOW has passed.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from harbor import enqueue
from orders.models import Order, OrderEvent, OrderStatus


RETURNED = "The shopper returned from authentication; checking the payment with Stripe."


@transaction.atomic
def shopper_returned(order_id):
    """The shopper finished (or abandoned) authentication: look at Stripe again. True if
    the order was waiting for it and nobody asked within SHOPPER_RETURN_WINDOW seconds.

    Idempotent: the order row is locked, so concurrent posts take turns, and a repeat inside
    the window finds the first one's event and writes nothing, sends nothing (each post would
    otherwise publish a fulfill_order, and the duplicates retry on the lock for minutes)."""
    order = Order.objects.select_for_update().filter(pk=order_id, status=OrderStatus.REQUIRES_ACTION).first()
    if order is None:
        return False
    recently = timezone.now() - timedelta(seconds=settings.SHOPPER_RETURN_WINDOW)
    if OrderEvent.objects.filter(order=order, message=RETURNED, created_at__gte=recently).exists():
        return False
    OrderEvent.objects.create(order=order, message=RETURNED, actor="storefront")
    enqueue.after_commit("orders.tasks.fulfill_order", order_id)
    return True


def waiting_since():
    """When each order entered requires_action (its latest such event)."""
    return Subquery(OrderEvent.objects.filter(order=OuterRef("pk"), to_status=OrderStatus.REQUIRES_ACTION)
                    .order_by("-created_at").values("created_at")[:1])


def expired(now):
    """Orders whose shopper has not authenticated within AUTHENTICATION_WINDOW."""
    cutoff = now - timedelta(seconds=settings.AUTHENTICATION_WINDOW)
    return (Order.objects.filter(status=OrderStatus.REQUIRES_ACTION)
            .annotate(waiting_since=waiting_since()).filter(waiting_since__lt=cutoff))
